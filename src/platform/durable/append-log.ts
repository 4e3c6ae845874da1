import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, ftruncateSync } from 'node:fs';
import { open, FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { crc32 } from 'node:zlib';
import { fsyncDir } from './durable-file';

/**
 * The embedded profile's durability: an append-only file of JSON records, one per file for each
 * in-process store (event log, key/value store, job queue) under DATA_DIR.
 *
 * - Frame: u32 payload length, u32 CRC-32 of the payload, payload (UTF-8 JSON). A crash mid-write
 *   leaves a torn or corrupt tail; opening cuts it off, so a record is either whole or absent.
 * - Group commit: `append` queues a record; one write + fdatasync takes everything queued meanwhile.
 *   `durable()` resolves once every record appended so far is on disk. The stores apply a change in
 *   memory at once and answer their caller only after `durable()`, and nothing reads the change before
 *   that (readers wait on `durable()` too): what a crash can lose was never acknowledged to anyone.
 * - Compaction: when the file has grown to twice its size after the last compaction (and past
 *   `compactMinBytes`), and nothing is pending, the store's `snapshot()` (its whole live state as
 *   records) replaces the file: written to a temporary file, fsynced, renamed over, directory fsynced.
 */
export interface AppendLogOptions {
  /** The store's live state as records, replayable onto an empty store; called synchronously. */
  snapshot(): unknown[];
  compactMinBytes?: number;
}

const HEADER = 8;

export class AppendLog {
  private fh!: FileHandle;
  private queue: Buffer[] = [];
  private flushing: Promise<void> | null = null;
  /** Resolves when the queue as it is now is on disk. */
  private next: { promise: Promise<void>; resolve(): void; reject(e: Error): void } | null = null;
  private size = 0;
  private compactedSize = 0;
  private failed: Error | null = null;
  private closed = false;
  /** The batch being written, for durable() when nothing new is queued. */
  private inflight: Promise<void> | null = null;

  private constructor(
    readonly path: string,
    private readonly opts: AppendLogOptions,
  ) {}

  /** Opens (creating) the file, cutting off a torn tail; returns the log and the records in it. */
  static async open(path: string, opts: AppendLogOptions): Promise<{ log: AppendLog; records: unknown[] }> {
    mkdirSync(dirname(path), { recursive: true });
    rmSync(path + '.compact', { force: true }); // a compaction that crashed before its rename
    const { records, validBytes } = existsSync(path) ? readRecords(readFileSync(path)) : { records: [], validBytes: 0 };
    if (existsSync(path) && statSync(path).size !== validBytes) {
      const fd = openSync(path, 'r+');
      ftruncateSync(fd, validBytes);
      fsyncSync(fd);
      closeSync(fd);
    }
    const log = new AppendLog(path, opts);
    log.fh = await open(path, 'a');
    log.size = validBytes;
    log.compactedSize = validBytes;
    return { log, records };
  }

  append(record: unknown): void {
    if (this.closed) throw new Error(`${this.path} is closed`);
    if (this.failed) throw this.failed;
    this.queue.push(frame([record]));
    if (!this.next) {
      let resolve!: () => void;
      let reject!: (e: Error) => void;
      const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
      promise.catch(() => undefined); // observed through durable(); never an unhandled rejection
      this.next = { promise, resolve, reject };
    }
    this.flushing ??= this.flushLoop();
  }

  /** Resolves once everything appended before this call is on disk; rejects if writing failed. */
  durable(): Promise<void> {
    if (this.failed) return Promise.reject(this.failed);
    return this.next?.promise ?? this.inflight ?? Promise.resolve();
  }

  private async flushLoop(): Promise<void> {
    try {
      while (this.next) {
        const batch = this.queue;
        const done = this.next;
        this.queue = [];
        this.next = null;
        this.inflight = done.promise;
        try {
          const bytes = Buffer.concat(batch);
          await writeAll(this.fh, bytes);
          await this.fh.datasync();
          this.size += bytes.length;
          done.resolve();
        } catch (e) {
          // A store that cannot write must not go on answering: every later append fails too.
          this.failed = new Error(`${this.path}: ${(e as Error).message}`);
          done.reject(this.failed);
          (this.next as typeof done | null)?.reject(this.failed); // appended while this batch was written
          this.next = null;
          return;
        } finally {
          this.inflight = null;
        }
        if (!this.next && this.shouldCompact()) await this.compact();
      }
    } finally {
      this.flushing = null;
    }
  }

  private shouldCompact(): boolean {
    return !this.closed && this.size >= (this.opts.compactMinBytes ?? 8 << 20) && this.size >= 2 * this.compactedSize;
  }

  /** Only with nothing pending: the snapshot then equals what is on disk. */
  private async compact(): Promise<void> {
    const records = this.opts.snapshot();
    const tmp = this.path + '.compact';
    const fh = await open(tmp, 'w');
    let bytes = 0;
    try {
      for (let i = 0; i < records.length; i += 1000) {
        const chunk = frame(records.slice(i, i + 1000));
        await writeAll(fh, chunk);
        bytes += chunk.length;
      }
      await fh.sync();
    } finally {
      await fh.close();
    }
    await this.fh.close();
    renameSync(tmp, this.path);
    await fsyncDir(dirname(this.path));
    this.fh = await open(this.path, 'a');
    this.size = bytes;
    this.compactedSize = bytes;
  }

  /** Writes what is queued and closes the file. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    while (this.flushing) await this.flushing.catch(() => undefined);
    await this.fh.close();
  }
}

async function writeAll(fh: FileHandle, bytes: Buffer): Promise<void> {
  let at = 0;
  while (at < bytes.length) at += (await fh.write(bytes, at, bytes.length - at)).bytesWritten;
}

function frame(records: unknown[]): Buffer {
  const parts: Buffer[] = [];
  for (const r of records) {
    const payload = Buffer.from(JSON.stringify(r), 'utf8');
    const header = Buffer.allocUnsafe(HEADER);
    header.writeUInt32LE(payload.length, 0);
    header.writeUInt32LE(crc32(payload), 4);
    parts.push(header, payload);
  }
  return Buffer.concat(parts);
}

/** Whole records up to the first torn or corrupt one. */
export function readRecords(buf: Buffer): { records: unknown[]; validBytes: number } {
  const records: unknown[] = [];
  let at = 0;
  while (at + HEADER <= buf.length) {
    const len = buf.readUInt32LE(at);
    const end = at + HEADER + len;
    if (end > buf.length) break;
    const payload = buf.subarray(at + HEADER, end);
    if (crc32(payload) !== buf.readUInt32LE(at + 4)) break;
    try {
      records.push(JSON.parse(payload.toString('utf8')));
    } catch {
      break;
    }
    at = end;
  }
  return { records, validBytes: at };
}
