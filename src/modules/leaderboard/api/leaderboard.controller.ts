import { Body, Headers, Param, ParseIntPipe, Query, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ApiHeader, ApiParam } from '@nestjs/swagger';
import { ApiController, Endpoint, linksTo } from '../../../platform/openapi';
import { BOARD_ID_PATTERN, PLAYER_ID_PATTERN } from '../domain';
import { BoardService } from '../application/board.service';
import { LeaderboardService } from '../application/leaderboard.service';
import { SeasonService } from '../application/season.service';
import { LeaderboardCode, LeaderboardError } from '../leaderboard.errors';
import { AroundQuery, BatchScoresDto, CreateLeaderboardDto, ResetDto, PageQuery, RanksDto, SubmitScoreDto } from './leaderboard.dto';
import { BoardDetail, BoardList, BoardView, PlayerStanding, RanksResult, ResetResult, ScoreAccepted, ScoresAccepted, TopPage } from './leaderboard.responses';

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,128}$/;
const BOARD = { boardId: '$request.path.boardId' };
const BOARD_EXAMPLE = { id: 'global:weekly', order: 'desc', updatePolicy: 'best', shards: 1, resetSchedule: null, season: 1, metadata: {}, createdAt: '2026-11-30T13:03:51.895Z' };
const TOP_EXAMPLE = { boardId: 'global:weekly', season: 1, total: 2, entries: [{ rank: 1, playerId: 'p2', score: 7 }, { rank: 2, playerId: 'p1', score: 5, metadata: { a: 1 } }] };
/** From a created board to reading it, writing its scores and its top page. */
const CREATED_LINKS = linksTo({ boardId: '$response.body#/id' }, { GetBoard: 'LeaderboardController_get', SubmitScore: 'LeaderboardController_submit', Top: 'LeaderboardController_top' });
/** Path parameters of every board route: the same patterns the service checks. */
const BoardParam = () => ApiParam({ name: 'boardId', schema: { type: 'string', pattern: BOARD_ID_PATTERN.source }, example: 'global:weekly' });
const PlayerParam = () => ApiParam({ name: 'playerId', schema: { type: 'string', pattern: PLAYER_ID_PATTERN.source }, example: 'player-1' });

@ApiController('leaderboard', 'api/v1/leaderboards')
export class LeaderboardController {
  constructor(
    private readonly boards: BoardService,
    private readonly service: LeaderboardService,
    private readonly seasons: SeasonService,
  ) {}

  @Endpoint('POST', 'admin', 'Create a leaderboard', {
    requestExample: { id: 'global:weekly', order: 'desc', updatePolicy: 'best' },
    description: 'Creates a board with its sort order, update policy (default overwrite) and shard count. Scores are written with PUT …/scores/{playerId}.',
    responses: [{
      status: 201, description: 'the board', type: BoardView, example: BOARD_EXAMPLE,
      links: CREATED_LINKS,
    }],
    errorNotes: { 409: 'a board with this id exists (`board_exists`)' },
  })
  create(@Body() dto: CreateLeaderboardDto) {
    return this.boards.create(dto);
  }

  @Endpoint('GET', 'client', 'List leaderboards', {
    description: 'Boards in id order, a page at a time (`limit` default 100, `offset` default 0).',
    responses: [{ status: 200, description: 'a page of boards', type: BoardList, example: { boards: [BOARD_EXAMPLE] } }],
  })
  async list(@Query() q: PageQuery) {
    return { boards: await this.boards.list(q.limit ?? 100, q.offset ?? 0) };
  }

  @BoardParam()
  @Endpoint('GET :boardId', 'client', 'Read a leaderboard', {
    description: 'The board\'s configuration, current season and its player count.',
    responses: [{ status: 200, description: 'the board', type: BoardDetail, example: { ...BOARD_EXAMPLE, players: 2 } }],
  })
  get(@Param('boardId') boardId: string) {
    return this.boards.describe(boardId);
  }

  @BoardParam()
  @PlayerParam()
  @Endpoint('PUT :boardId/scores/:playerId', 'service', 'Submit a score', {
    requestExample: { score: 1200, metadata: { level: 3 } },
    description:
      'Accepted (202) once the write is on the log; it is applied in order per player by the board\'s update policy. ' +
      'A retry with the same Idempotency-Key applies once; the key with a different body is 422.',
    responses: [{
      status: 202, description: 'accepted', type: ScoreAccepted, example: { accepted: 1, messageId: '01a22c8d-fb5d-747b-b861-ebdaba73c75f' },
      links: { GetPlayer: { operationId: 'LeaderboardController_player', parameters: { ...BOARD, playerId: '$request.path.playerId' } } },
    }],
    errorNotes: { 422: 'the Idempotency-Key was used with a different request (`idempotency_key_reused`)' },
  })
  @ApiHeader({ name: 'Idempotency-Key', required: false, description: 'a retried write with the same key applies once', schema: { type: 'string', pattern: IDEMPOTENCY_KEY.source } })
  async submit(
    @Param('boardId') boardId: string,
    @Param('playerId') playerId: string,
    @Body() dto: SubmitScoreDto,
    @Headers('idempotency-key') key?: string,
  ) {
    if (key !== undefined && !IDEMPOTENCY_KEY.test(key)) {
      throw new LeaderboardError('invalid', LeaderboardCode.InvalidIdempotencyKey, 'Idempotency-Key must be 1..128 printable characters');
    }
    const [messageId] = await this.service.submit(boardId, [{ playerId, score: dto.score, metadata: dto.metadata, messageId: key }]);
    return { accepted: 1, messageId };
  }

  @BoardParam()
  @Endpoint('POST :boardId/scores::batch', 'service', 'Submit scores in a batch', {
    requestExample: { entries: [{ playerId: 'player-1', score: 1200 }, { playerId: 'player-2', score: 900, messageId: 'm-2' }] },
    description: 'Up to 1,000 entries as `entries` (or its alias `scores`, not both). Each entry is checked like PUT …/scores/{playerId}; an entry\'s `messageId` makes its retry apply once.',
    responses: [{
      status: 202, description: 'all entries accepted', type: ScoresAccepted, example: { accepted: 1, messageIds: ['01a22c8d-fb81-7433-9752-63f97b41dbcc'] },
      links: { Top: { operationId: 'LeaderboardController_top', parameters: BOARD } },
    }],
    errorNotes: { 422: 'a messageId was used with a different entry (`idempotency_key_reused`)' },
  })
  async batch(@Param('boardId') boardId: string, @Body() dto: BatchScoresDto) {
    const entries = dto.entries ?? dto.scores;
    if (!entries || (dto.entries && dto.scores)) {
      throw new LeaderboardError('invalid', LeaderboardCode.InvalidBatch, 'send the scores as `entries` (1..1000 items)');
    }
    const ids = await this.service.submit(boardId, entries);
    return { accepted: ids.length, messageIds: ids };
  }

  /** Sends JSON text: cached pages are serialized once per top-K snapshot, not per request. */
  @BoardParam()
  @Endpoint('GET :boardId/top', 'client', 'Top of a leaderboard', {
    description: 'A page of the current season in rank order (`limit` default 10, `offset` default 0). Equal scores rank by who reached them first.',
    responses: [{ status: 200, description: 'a page of ranked entries', type: TopPage, example: TOP_EXAMPLE }],
  })
  async top(@Param('boardId') boardId: string, @Query() q: PageQuery, @Res({ passthrough: true }) reply: FastifyReply) {
    const json = await this.service.topJson(boardId, q.limit ?? 10, q.offset ?? 0);
    void reply.type('application/json; charset=utf-8');
    return json;
  }

  @BoardParam()
  @PlayerParam()
  @Endpoint('GET :boardId/players/:playerId', 'client', 'A player\'s rank and neighbours', {
    description: 'The player\'s score, exact rank, percentile and `neighbours`: the player itself with up to `around` (default 5) entries above and below, in rank order.',
    responses: [{
      status: 200, description: 'the standing', type: PlayerStanding,
      example: { boardId: 'global:weekly', season: 1, playerId: 'p1', score: 5, rank: 2, total: 2, percentile: 0, metadata: { a: 1 }, neighbours: [{ rank: 1, playerId: 'p2', score: 7 }, { rank: 2, playerId: 'p1', score: 5, metadata: { a: 1 } }] },
      links: { Remove: { operationId: 'LeaderboardController_remove', parameters: { ...BOARD, playerId: '$request.path.playerId' } } },
    }],
  })
  player(@Param('boardId') boardId: string, @Param('playerId') playerId: string, @Query() q: AroundQuery) {
    return this.service.player(boardId, playerId, q.around ?? 5);
  }

  @BoardParam()
  @Endpoint('POST :boardId/ranks', 'client', 'Ranks of many players', {
    requestExample: { playerIds: ['player-1', 'player-2'] },
    description: 'Ranks and scores of up to 100 players in one call; a player without a score has rank and score null.',
    responses: [{
      status: 200, description: 'one entry per player asked', type: RanksResult,
      example: { boardId: 'global:weekly', season: 1, total: 2, entries: [{ playerId: 'p1', rank: 2, score: 5 }, { playerId: 'zz', rank: null, score: null }] },
    }],
  })
  ranks(@Param('boardId') boardId: string, @Body() dto: RanksDto) {
    return this.service.ranksOf(boardId, dto.playerIds);
  }

  @BoardParam()
  @PlayerParam()
  @Endpoint('DELETE :boardId/players/:playerId', 'admin', 'Remove a player', {
    description: 'Removes the player from the current season; writes accepted before the delete do not bring them back.',
    responses: [{ status: 204, description: 'removed' }],
  })
  async remove(@Param('boardId') boardId: string, @Param('playerId') playerId: string): Promise<void> {
    await this.service.remove(boardId, playerId);
  }

  @BoardParam()
  @Endpoint('POST :boardId/reset', 'admin', 'Start a new season', {
    requestExample: { season: 1 },
    description:
      'Archives the current season (readable at …/seasons/{season}/top) and starts the next one empty, in one transaction: a failed ' +
      'archive leaves the season current. With `season`, only that season is ended; when it has ended already (a retried reset), ' +
      'its archive is answered again and nothing changes.',
    responses: [{
      status: 200, description: 'the archived and the new season', type: ResetResult, example: { boardId: 'global:weekly', archivedSeason: 1, archivedEntries: 2, season: 2 },
      links: { ArchivedTop: { operationId: 'LeaderboardController_seasonTop', parameters: { ...BOARD, season: '$response.body#/archivedSeason' } } },
    }],
    errorNotes: { 409: '`season` is neither current nor archived (`season_not_current`), or a reset of this board is running (`reset_in_progress`)' },
  })
  reset(@Param('boardId') boardId: string, @Body() dto?: ResetDto) {
    return this.seasons.reset(boardId, dto?.season);
  }

  @BoardParam()
  @ApiParam({ name: 'season', schema: { type: 'integer', minimum: 1 }, example: 1 })
  @Endpoint('GET :boardId/seasons/:season/top', 'client', 'Top of an archived season', {
    description: 'A page of a season archived by a reset, in its final rank order.',
    responses: [{ status: 200, description: 'a page of ranked entries', type: TopPage, example: TOP_EXAMPLE }],
  })
  seasonTop(
    @Param('boardId') boardId: string,
    @Param('season', new ParseIntPipe({ exceptionFactory: () => new LeaderboardError('invalid', LeaderboardCode.InvalidSeason, 'season must be an integer') }))
    season: number,
    @Query() q: PageQuery,
  ) {
    // Seasons count from 1 in a PostgreSQL integer column.
    if (season < 1 || season > 2_147_483_647) throw new LeaderboardError('invalid', LeaderboardCode.InvalidSeason, 'season must be 1..2147483647');
    return this.seasons.seasonTop(boardId, season, q.limit ?? 10, q.offset ?? 0);
  }
}
