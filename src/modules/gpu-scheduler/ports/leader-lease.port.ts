/**
 * Who normally runs scheduling cycles: `acquire` takes a free or expired lease, or renews our own;
 * it is called every cycle interval, so the holder renews well before the TTL and a crashed leader
 * is replaced after at most one TTL. Correctness never depends on it (binding is guarded by
 * versions), so a paused leader overlapping its successor is harmless.
 */
export abstract class LeaderLease {
  abstract acquire(nowMs: number): Promise<boolean>;
  /** Whether the last acquire is still to be trusted at nowMs (a little less than the TTL). */
  abstract isHeld(nowMs: number): boolean;
  abstract release(): Promise<void>;
}
