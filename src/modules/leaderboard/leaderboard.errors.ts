import { AppError } from '../../platform/errors/app-error';

/** The module's error codes, by the kind they are thrown with (not_found, conflict, invalid). */
export enum LeaderboardCode {
  BoardNotFound = 'board_not_found', PlayerNotFound = 'player_not_found', SeasonNotFound = 'season_not_found',
  BoardExists = 'board_exists', SeasonNotCurrent = 'season_not_current', ResetInProgress = 'reset_in_progress',
  InvalidBoard = 'invalid_board', InvalidResetSchedule = 'invalid_reset_schedule', InvalidBoardId = 'invalid_board_id',
  InvalidPlayerId = 'invalid_player_id', InvalidEntry = 'invalid_entry', InvalidScore = 'invalid_score',
  InvalidMessageId = 'invalid_message_id', InvalidMetadata = 'invalid_metadata', InvalidIdempotencyKey = 'invalid_idempotency_key',
  InvalidBatch = 'invalid_batch', InvalidSeason = 'invalid_season', PageTooDeep = 'page_too_deep',
}

export class LeaderboardError extends AppError<LeaderboardCode> {}

