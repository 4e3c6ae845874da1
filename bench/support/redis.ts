import type Redis from 'ioredis';

/** Every key matching `pattern`, by SCAN (COUNT 5000), so a bench can inspect what a run left in Redis without KEYS. */
export async function scanKeys(redis: Redis, pattern: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 5000);
    keys.push(...batch);
    cursor = next;
  } while (cursor !== '0');
  return keys;
}
