import { AppError } from '../../platform/errors/app-error';

export class BoardNotFound extends AppError {
  constructor(boardId: string) {
    super('not_found', 'board_not_found', `leaderboard ${boardId} does not exist`);
  }
}
export class PlayerNotFound extends AppError {
  constructor(boardId: string, playerId: string) {
    super('not_found', 'player_not_found', `player ${playerId} is not on leaderboard ${boardId}`);
  }
}
export class SeasonNotFound extends AppError {
  constructor(boardId: string, season: number) {
    super('not_found', 'season_not_found', `leaderboard ${boardId} has no archived season ${season}`);
  }
}
export class BoardExists extends AppError {
  constructor(boardId: string) {
    super('conflict', 'board_exists', `leaderboard ${boardId} already exists`);
  }
}
export class InvalidLeaderboardInput extends AppError {
  constructor(code: string, message: string) {
    super('invalid', code, message);
  }
}
export class SeasonNotCurrent extends AppError {
  constructor(boardId: string, season: number, current: number) {
    super('conflict', 'season_not_current', `leaderboard ${boardId} is at season ${current}; season ${season} is not the current one nor archived`, { currentSeason: current });
  }
}
export class ResetInProgress extends AppError {
  constructor(boardId: string) {
    super('conflict', 'reset_in_progress', `a reset of leaderboard ${boardId} is in progress`, { retryAfterSeconds: 2 });
  }
}
