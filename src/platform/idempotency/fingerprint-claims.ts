import { AtomicScript, KeyValueStore } from '../kv/key-value-store.port';
import { IdempotencyKeyReused } from './idempotency.errors';

/**
 * Binds keys to request fingerprints, all or nothing: when any key is already bound to another
 * fingerprint nothing is written and its (1-based) position is returned; otherwise every absent
 * key is set (with the TTL) and 0 is returned. A key bound to the same fingerprint is a replay.
 * KEYS: claim keys. ARGV: ttl ms, then one fingerprint per key.
 */
export const CLAIM_FINGERPRINTS: AtomicScript<number> = {
  name: 'platform-claim-fingerprints',
  lua: `
for i = 1, #KEYS do
  local prior = redis.call('GET', KEYS[i])
  if prior and prior ~= ARGV[i + 1] then return i end
end
for i = 1, #KEYS do redis.call('SET', KEYS[i], ARGV[i + 1], 'NX', 'PX', tonumber(ARGV[1])) end
return 0
`,
  local(ops, keys, args) {
    for (let i = 0; i < keys.length; i++) {
      const prior = ops.get(keys[i]);
      if (prior !== null && prior !== args[i + 1]) return i + 1;
    }
    for (let i = 0; i < keys.length; i++) ops.set(keys[i], args[i + 1], { onlyIfAbsent: true, ttlMs: Number(args[0]) });
    return 0;
  },
  fromRedis(reply: unknown): number {
    return Number(reply);
  },
};

/**
 * For writes that are applied later (a log consumer dedupes them by id): remembers which request
 * each caller-chosen key was first used with, and throws IdempotencyKeyReused (422) when a key
 * comes back with another. Claims sharing one hash slot (a `{tag}` in every key) keep the script
 * valid on Redis Cluster.
 */
export async function claimFingerprints(kv: KeyValueStore, claims: { key: string; fingerprint: string }[], ttlMs: number): Promise<void> {
  if (claims.length === 0) return;
  const seen = new Map<string, string>();
  for (const c of claims) {
    // Two entries of one batch under one key: the script sees only stored claims.
    const prior = seen.get(c.key);
    if (prior !== undefined && prior !== c.fingerprint) throw new IdempotencyKeyReused();
    seen.set(c.key, c.fingerprint);
  }
  const keys = [...seen.keys()];
  const conflict = await kv.runScript(CLAIM_FINGERPRINTS, keys, [ttlMs, ...keys.map((k) => seen.get(k)!)]);
  if (conflict !== 0) throw new IdempotencyKeyReused();
}
