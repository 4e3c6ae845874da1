/**
 * The one error style. Transport-neutral categories: code throws AppError with a stable `code`;
 * the HTTP filter (problem-details.filter.ts) maps the kind to a status and the error to
 * problem+json once, and consumers map it to retry or dead-letter. No HttpException below `api/`.
 *
 * Each module's `<module>.errors.ts` holds one code enum and one error class typed by it:
 *     export enum LeaderboardCode { BoardNotFound = 'board_not_found' }
 *     export class LeaderboardError extends AppError<LeaderboardCode> {}
 *     throw new LeaderboardError('not_found', LeaderboardCode.BoardNotFound, `leaderboard ${id} does not exist`);
 * `extra` fields are added to the problem document; `retryAfterSeconds` becomes a Retry-After header.
 */
export type ErrorKind =
  | 'invalid'
  | 'unauthenticated'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'unprocessable'
  | 'too_early'
  | 'rate_limited'
  | 'unavailable';

export class AppError<Code extends string = string> extends Error {
  constructor(
    readonly kind: ErrorKind,
    readonly code: Code,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export function statusOf(kind: ErrorKind): number {
  switch (kind) {
    case 'invalid':
      return 400;
    case 'unauthenticated':
      return 401;
    case 'forbidden':
      return 403;
    case 'not_found':
      return 404;
    case 'conflict':
      return 409;
    case 'unprocessable':
      return 422;
    case 'too_early':
      return 425;
    case 'rate_limited':
      return 429;
    case 'unavailable':
      return 503;
    default:
      return assertUnreachable(kind);
  }
}

export function assertUnreachable(x: never): never {
  throw new Error(`unreachable: ${String(x)}`);
}
