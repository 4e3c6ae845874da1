import { Body, Controller, Delete, Get, Headers, HttpCode, Param, ParseIntPipe, Post, Put, Query, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ApiHeader, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { RequireRole } from '../../../platform/auth/roles.decorator';
import { InvalidLeaderboardInput } from '../leaderboard.errors';
import { LeaderboardService } from '../leaderboard.service';
import { AroundQuery, BatchScoresDto, CreateLeaderboardDto, PageQuery, RanksDto, SubmitScoreDto } from './leaderboard.dto';

@ApiTags('leaderboard')
@ApiSecurity('api-key')
@Controller('api/v1/leaderboards')
export class LeaderboardController {
  constructor(private readonly service: LeaderboardService) {}

  @RequireRole('admin')
  @Post()
  create(@Body() dto: CreateLeaderboardDto) {
    return this.service.create(dto);
  }

  @RequireRole('client')
  @Get()
  async list(@Query() q: PageQuery) {
    return { boards: await this.service.list(q.limit ?? 100, q.offset ?? 0) };
  }

  @RequireRole('client')
  @Get(':boardId')
  get(@Param('boardId') boardId: string) {
    return this.service.board(boardId);
  }

  @RequireRole('service')
  @Put(':boardId/scores/:playerId')
  @HttpCode(202)
  @ApiHeader({ name: 'Idempotency-Key', required: false, description: 'a retried write with the same key applies once' })
  async submit(
    @Param('boardId') boardId: string,
    @Param('playerId') playerId: string,
    @Body() dto: SubmitScoreDto,
    @Headers('idempotency-key') key?: string,
  ) {
    if (key !== undefined && !/^[\x21-\x7e]{1,128}$/.test(key)) {
      throw new InvalidLeaderboardInput('invalid_idempotency_key', 'Idempotency-Key must be 1..128 printable characters');
    }
    const [messageId] = await this.service.submit(boardId, [{ playerId, score: dto.score, metadata: dto.metadata, messageId: key }]);
    return { accepted: 1, messageId };
  }

  @RequireRole('service')
  @Post(':boardId/scores::batch')
  @HttpCode(202)
  async batch(@Param('boardId') boardId: string, @Body() dto: BatchScoresDto) {
    const entries = dto.entries ?? dto.scores;
    if (!entries || (dto.entries && dto.scores)) {
      throw new InvalidLeaderboardInput('invalid_batch', 'send the scores as `entries` (1..1000 items)');
    }
    const ids = await this.service.submit(boardId, entries);
    return { accepted: ids.length, messageIds: ids };
  }

  /** Sends JSON text: cached pages are serialized once per top-K snapshot, not per request. */
  @RequireRole('client')
  @Get(':boardId/top')
  async top(@Param('boardId') boardId: string, @Query() q: PageQuery, @Res({ passthrough: true }) reply: FastifyReply) {
    const json = await this.service.topJson(boardId, q.limit ?? 10, q.offset ?? 0);
    void reply.type('application/json; charset=utf-8');
    return json;
  }

  @RequireRole('client')
  @Get(':boardId/players/:playerId')
  player(@Param('boardId') boardId: string, @Param('playerId') playerId: string, @Query() q: AroundQuery) {
    return this.service.player(boardId, playerId, q.around ?? 5);
  }

  @RequireRole('client')
  @Post(':boardId/ranks')
  @HttpCode(200)
  ranks(@Param('boardId') boardId: string, @Body() dto: RanksDto) {
    return this.service.ranksOf(boardId, dto.playerIds);
  }

  @RequireRole('admin')
  @Delete(':boardId/players/:playerId')
  @HttpCode(204)
  async remove(@Param('boardId') boardId: string, @Param('playerId') playerId: string): Promise<void> {
    await this.service.remove(boardId, playerId);
  }

  @RequireRole('admin')
  @Post(':boardId/reset')
  @HttpCode(200)
  reset(@Param('boardId') boardId: string) {
    return this.service.reset(boardId);
  }

  @RequireRole('client')
  @Get(':boardId/seasons/:season/top')
  seasonTop(
    @Param('boardId') boardId: string,
    @Param('season', new ParseIntPipe({ exceptionFactory: () => new InvalidLeaderboardInput('invalid_season', 'season must be an integer') }))
    season: number,
    @Query() q: PageQuery,
  ) {
    return this.service.seasonTop(boardId, season, q.limit ?? 10, q.offset ?? 0);
  }
}
