import { OnApplicationShutdown } from '@nestjs/common';
import { mkdtempSync, rmSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import { fsyncDir, writeDurably, writeFileSynced } from '../../../platform/durable/durable-file';
import { AdAnalyticsConfig, eventsTopic } from '../ad-analytics.config';
import { ArchiveCheckpoint, ArchiveStore, LostPartition } from '../ports/archive-store.port';
import { AdEvent, ArchivedRecord, isAdEvent, CHECKPOINT_DIR, checkpointFileName, hourDirsForDay, parsePartFileName, partFileName, topicDir } from '../domain';

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

/**
 * The raw-event archive on a file system (the layout in domain/archive-layout.ts). Every file and
 * checkpoint is written to a temporary name, fsynced, renamed into place and its folder fsynced, so
 * after a crash a name holds either nothing or complete, durable content.
 */
export class FsArchiveStore extends ArchiveStore implements OnApplicationShutdown {
  readonly root: string;

  /**
   * `logId`: see partFileName — set where the log's offsets restart with each process (an in-memory
   * log). `ephemeral`: `baseDir` is removed at shutdown.
   */
  constructor(
    private readonly baseDir: string,
    topic: string,
    readonly logId = '',
    private readonly ephemeral = false,
  ) {
    super();
    this.root = join(baseDir, topicDir(topic));
  }

  /**
   * ADS_ARCHIVE_DIR, else <DATA_DIR>/ads/raw. DATA_DIR=memory means "keep nothing on disk" (tests,
   * throwaway runs), like the in-memory database beside it: the archive then goes to a fresh temporary
   * folder that is removed when the application shuts down.
   */
  static forConfig(config: AdAnalyticsConfig, logId: string): FsArchiveStore {
    const topic = eventsTopic(config);
    if (config.ADS_ARCHIVE_DIR) return new FsArchiveStore(resolve(config.ADS_ARCHIVE_DIR), topic, logId);
    if (config.DATA_DIR !== 'memory') return new FsArchiveStore(resolve(config.DATA_DIR, 'ads', 'raw'), topic, logId);
    return new FsArchiveStore(mkdtempSync(join(tmpdir(), `tetrad-${config.NAMESPACE}-archive-`)), topic, logId, true);
  }

  /** Runs after every beforeApplicationShutdown hook, so the archiver has stopped writing. */
  onApplicationShutdown(): void {
    if (this.ephemeral) rmSync(this.baseDir, { recursive: true, force: true });
  }

  private checkpointPath(partition: number): string {
    return join(this.root, CHECKPOINT_DIR, checkpointFileName(partition));
  }

  async readCheckpoint(partition: number): Promise<ArchiveCheckpoint | null> {
    const text = await unlessMissing(readFile(this.checkpointPath(partition), 'utf8'));
    return text === null ? null : (JSON.parse(text) as ArchiveCheckpoint);
  }

  async writeCheckpoint(partition: number, cp: ArchiveCheckpoint): Promise<void> {
    await writeDurably(this.checkpointPath(partition), Buffer.from(JSON.stringify(cp)));
  }

  /** The undone flush's offsets will be archived again, under the same names. */
  async recover(partition: number): Promise<ArchiveCheckpoint> {
    const cp = (await this.readCheckpoint(partition)) ?? { next: '0', epoch: 0 };
    if ((cp.logId ?? '') !== this.logId) {
      // A new incarnation of the log (embedded profile restarted): its offsets start again at 0. The
      // previous one's files keep their own names; nobody will rewrite them, so none are undone.
      const fresh: ArchiveCheckpoint = { next: '0', epoch: cp.epoch + 1, logId: this.logId };
      await this.writeCheckpoint(partition, fresh);
      return fresh;
    }
    if (cp.inflight) {
      const name = partFileName(partition, cp.inflight.firstOffset, this.logId);
      for (const dir of cp.inflight.dirs) {
        await rm(join(this.root, dir, name), { force: true });
        await rm(join(this.root, dir, name + '.tmp'), { force: true });
      }
    }
    const next: ArchiveCheckpoint = { next: cp.next, epoch: cp.epoch + 1, logId: this.logId };
    await this.writeCheckpoint(partition, next);
    return next;
  }

  /**
   * Order: data to temporary files (fsync) → checkpoint naming the flush as in flight → renames
   * (fsync folders) → checkpoint with the new next offset.
   */
  async flush(partition: number, epoch: number, firstOffset: string, next: string, lines: Map<string, string[]>): Promise<void> {
    const name = partFileName(partition, firstOffset, this.logId);
    const dirs = [...lines.keys()].sort();
    await Promise.all(
      dirs.map(async (dir) => {
        const gz = await gzipAsync(Buffer.from(lines.get(dir)!.join('\n') + '\n'), { level: 6 });
        await mkdir(join(this.root, dir), { recursive: true });
        await writeFileSynced(join(this.root, dir, name + '.tmp'), gz);
      }),
    );
    const cp = await this.readCheckpoint(partition);
    if (!cp || cp.epoch !== epoch) throw new LostPartition(partition);
    if (cp.next !== firstOffset) throw new Error(`archive partition ${partition}: checkpoint at ${cp.next}, flush starts at ${firstOffset}`);
    await this.writeCheckpoint(partition, { next: cp.next, epoch, logId: this.logId, inflight: { firstOffset, dirs } });
    for (const dir of dirs) await rename(join(this.root, dir, name + '.tmp'), join(this.root, dir, name));
    await Promise.all(dirs.map((dir) => fsyncDir(join(this.root, dir))));
    await this.writeCheckpoint(partition, { next, epoch, logId: this.logId });
  }

  async filesForDay(dayStart: number, marginMs: number): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    for (const dir of hourDirsForDay(dayStart, marginMs)) {
      const names = await unlessMissing(readdir(join(this.root, dir)));
      for (const n of names?.sort() ?? []) {
        const f = parsePartFileName(n);
        if (!f) continue; // .tmp leftovers of a crashed flush are not data
        const key = `${f.logId}/${f.partition}`;
        let list = out.get(key);
        if (!list) out.set(key, (list = []));
        list.push(join(this.root, dir, n));
      }
    }
    return out;
  }

  async readFile(path: string): Promise<{ records: ArchivedRecord[]; skipped: number }> {
    const text = (await gunzipAsync(await readFile(path))).toString('utf8');
    const records: ArchivedRecord[] = [];
    let skipped = 0;
    for (const line of text.split('\n')) {
      if (line.length === 0) continue;
      try {
        const r = JSON.parse(line) as { p: number; o: string; e: AdEvent };
        if (!isAdEvent(r.e)) throw new Error('not an event');
        records.push({ partition: r.p, offset: BigInt(r.o), event: r.e });
      } catch {
        skipped++;
      }
    }
    return { records, skipped };
  }
}

/** The result, or null when the file or folder does not exist. */
async function unlessMissing<T>(p: Promise<T>): Promise<T | null> {
  return p.catch((e: unknown) => {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  });
}
