import { AppendLog } from '../durable/append-log';
import { KvEffect, MemoryKeyValueOps, MemoryKeyValueStore } from './memory-key-value-store';

/**
 * The embedded profile's KeyValueStore when DATA_DIR is a folder: the in-process store, plus a
 * journal of every change as absolute effects (AppendLog: group-committed, fdatasync before an
 * answer, compacted into a snapshot of the live keys). An operation, read or write, answers only
 * once everything changed before it is on disk, so no caller ever sees state a crash could take back
 * (Redis with `appendfsync always`, in effect). Expiry times are absolute, so a key's TTL runs on
 * across a restart.
 */
export class DurableKeyValueStore extends MemoryKeyValueStore {
  private log!: AppendLog;

  static async open(path: string, sweepIntervalMs?: number): Promise<DurableKeyValueStore> {
    const store = new DurableKeyValueStore(sweepIntervalMs);
    const { log, records } = await AppendLog.open(path, { snapshot: () => chunk(store.ops.dump()) });
    for (const effects of records as KvEffect[][]) for (const e of effects) store.ops.apply(e);
    store.log = log;
    return store;
  }

  protected override async exec<T>(op: (ops: MemoryKeyValueOps) => T): Promise<T> {
    const effects: KvEffect[] = [];
    this.ops.recorder = effects;
    try {
      return op(this.ops);
    } finally {
      this.ops.recorder = null;
      // Even when the op threw part-way (as a Lua script can): what it changed stays changed.
      if (effects.length > 0) this.log.append(effects);
      await this.log.durable();
    }
  }

  override async close(): Promise<void> {
    await super.close();
    await this.log.close();
  }
}

/** A snapshot in records of at most 1,000 effects, so none grows without bound. */
function chunk(effects: KvEffect[]): KvEffect[][] {
  const out: KvEffect[][] = [];
  for (let i = 0; i < effects.length; i += 1000) out.push(effects.slice(i, i + 1000));
  return out;
}
