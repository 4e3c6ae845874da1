import calculateSlot from 'cluster-key-slot';

/** The Redis Cluster hash slot of a key (CRC16 of its `{hash tag}` when it has one), 0..16383. */
export const hashSlot = (key: string): number => calculateSlot(key);

/**
 * A multi-key script runs on one Redis Cluster node only when every key hashes to one slot; Redis
 * answers CROSSSLOT otherwise. Both adapters check it on every script call, so a key layout that
 * would break on a cluster fails in the embedded profile's tests already.
 */
export class CrossSlotKeysError extends Error {
  constructor(script: string, keys: string[]) {
    super(`script ${script}: keys span Redis Cluster hash slots (give them one {hash tag}): ${keys.slice(0, 4).join(', ')}${keys.length > 4 ? ', ...' : ''}`);
  }
}

export function assertOneSlot(script: string, keys: readonly string[]): void {
  if (keys.length < 2) return;
  const slot = hashSlot(keys[0]);
  for (let i = 1; i < keys.length; i++) if (hashSlot(keys[i]) !== slot) throw new CrossSlotKeysError(script, [...keys]);
}
