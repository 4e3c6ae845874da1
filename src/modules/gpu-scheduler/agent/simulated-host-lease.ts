import type { AtomicScript, SyncKeyValueOps } from '../../../platform/kv/key-value-store.port';

/**
 * Which worker process serves a built-in simulated node: the holder of a short KV lease, renewed
 * on every reconcile. One host per node keeps a node's running set (and its heartbeats) in one
 * place; when the host dies, its lease expires and another worker takes the node over.
 * KEYS[1] lease; ARGV holder, ttlMs. Reply 1 when `holder` holds it (acquired or renewed).
 */
export const CLAIM_SIMULATED_NODE: AtomicScript<number> = {
  name: 'gpu_claim_simulated_node',
  lua: `
local v = redis.call('GET', KEYS[1])
if v == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
if v then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`,
  local(ops: SyncKeyValueOps, keys: string[], args: string[]): number {
    const v = ops.get(keys[0]);
    if (v === args[0]) {
      ops.pExpire(keys[0], Number(args[1]));
      return 1;
    }
    if (v !== null) return 0;
    ops.set(keys[0], args[0], { ttlMs: Number(args[1]) });
    return 1;
  },
  fromRedis: (reply) => Number(reply),
};

/** Lets go of a lease if `holder` (ARGV[1]) still holds it, so another worker can take over at once. */
export const RELEASE_SIMULATED_NODE: AtomicScript<number> = {
  name: 'gpu_release_simulated_node',
  lua: `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`,
  local(ops: SyncKeyValueOps, keys: string[], args: string[]): number {
    return ops.get(keys[0]) === args[0] ? ops.del(keys[0]) : 0;
  },
  fromRedis: (reply) => Number(reply),
};
