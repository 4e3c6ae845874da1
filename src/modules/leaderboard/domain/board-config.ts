/**
 * Leaderboard board configuration and score validation. Plain TypeScript: no framework imports.
 */
export const BOARD_ID_PATTERN = /^[A-Za-z0-9:_-]{1,64}$/;
export const PLAYER_ID_PATTERN = /^[A-Za-z0-9:_.@-]{1,128}$/;
export const MAX_SHARDS = 1024;
export const MAX_METADATA_BYTES = 1024;

export type SortOrder = 'desc' | 'asc';
export type UpdatePolicy = 'overwrite' | 'best' | 'increment';

export interface BoardConfig {
  id: string;
  order: SortOrder;
  updatePolicy: UpdatePolicy;
  shards: number;
  metadata: Record<string, unknown>;
}

export type Validation<T> = { ok: true; value: T } | { ok: false; errors: string[] };

const ORDERS: readonly SortOrder[] = ['desc', 'asc'];
const POLICIES: readonly UpdatePolicy[] = ['overwrite', 'best', 'increment'];

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

export function isValidBoardId(id: unknown): id is string {
  return typeof id === 'string' && BOARD_ID_PATTERN.test(id);
}

/** Player ids never contain '|' so they are safe after the member separator (decode does not rely on it). */
export function isValidPlayerId(id: unknown): id is string {
  return typeof id === 'string' && PLAYER_ID_PATTERN.test(id);
}

/** A score is a finite integer within ±(2^53 - 1), so it is exact as a Redis double. */
export function isValidScore(score: unknown): score is number {
  return typeof score === 'number' && Number.isSafeInteger(score);
}

/** Metadata must be a JSON object whose UTF-8 JSON encoding is at most 1 KiB. */
export function validateMetadata(metadata: unknown): string[] {
  if (!isPlainObject(metadata)) return ['metadata must be a JSON object'];
  let json: string;
  try {
    json = JSON.stringify(metadata);
  } catch {
    return ['metadata must be JSON-serialisable'];
  }
  const bytes = Buffer.byteLength(json, 'utf8');
  return bytes > MAX_METADATA_BYTES ? [`metadata is ${bytes} bytes, max ${MAX_METADATA_BYTES}`] : [];
}

/** Validates untrusted input; defaults: order desc, updatePolicy overwrite (the seed's rule), shards 1, metadata {}. */
export function validateBoardConfig(input: unknown): Validation<BoardConfig> {
  if (!isPlainObject(input)) return { ok: false, errors: ['config must be an object'] };
  const errors: string[] = [];
  const { id, order = 'desc', updatePolicy = 'overwrite', shards = 1, metadata = {} } = input;
  if (!isValidBoardId(id)) errors.push('id must match [A-Za-z0-9:_-]{1,64}');
  if (!ORDERS.includes(order as SortOrder)) errors.push('order must be desc or asc');
  if (!POLICIES.includes(updatePolicy as UpdatePolicy)) errors.push('updatePolicy must be overwrite, best or increment');
  if (typeof shards !== 'number' || !Number.isInteger(shards) || shards < 1 || shards > MAX_SHARDS) {
    errors.push(`shards must be an integer in 1..${MAX_SHARDS}`);
  }
  errors.push(...validateMetadata(metadata));
  if (errors.length > 0) return { ok: false, errors };
  return {
    ok: true,
    value: {
      id: id as string,
      order: order as SortOrder,
      updatePolicy: updatePolicy as UpdatePolicy,
      shards: shards as number,
      metadata: metadata as Record<string, unknown>,
    },
  };
}
