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
const STATUS = {
  invalid: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  unprocessable: 422,
  too_early: 425,
  rate_limited: 429,
  unavailable: 503,
} as const;
export type ErrorKind = keyof typeof STATUS;

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
  return STATUS[kind];
}
