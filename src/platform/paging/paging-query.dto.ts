import { QueryInt } from '../validation/int-range';

/** `?limit=&offset=` of a plain list (at most 500 a page). */
export class PagingQuery {
  @QueryInt(1, 500, 50)
  limit?: number;

  @QueryInt(0, 1_000_000, 0)
  offset?: number;
}
