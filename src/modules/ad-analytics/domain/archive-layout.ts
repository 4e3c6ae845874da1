// Where the raw-event archive puts things. Hive-style `key=value` folders so an object store, HDFS or
// a query engine (Spark, Trino, DuckDB) can prune by date and hour without opening files.
//
//   <root>/topic=<topic>/date=YYYY-MM-DD/hour=HH/part-<partition>-<firstOffset:20>.jsonl.gz
//   <root>/topic=<topic>/_invalid/part-<partition>-<firstOffset:20>.jsonl.gz   (no usable event time)
//   <root>/topic=<topic>/_checkpoints/partition=<p>.json                       (next offset, epoch)
//
// A file is named by its partition and the offset of its first record, so re-archiving the same
// offsets after a crash rewrites the same name instead of adding a second copy.

export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;
export const INVALID_DIR = '_invalid';
export const CHECKPOINT_DIR = '_checkpoints';
const FILE_RE = /^part-(\d+)-(\d{20})(?:-([a-z0-9]{1,32}))?\.jsonl\.gz$/;

export function topicDir(topic: string): string {
  return `topic=${topic}`;
}

let lastHour = NaN;
let lastHourDir = '';

/** The `date=…/hour=…` folder of an event time (UTC). Called per archived event, so the last hour is memoised. */
export function hourDir(ts: number): string {
  const hour = Math.floor(ts / HOUR_MS);
  if (hour !== lastHour) {
    const iso = new Date(hour * HOUR_MS).toISOString();
    lastHourDir = `date=${iso.slice(0, 10)}/hour=${iso.slice(11, 13)}`;
    lastHour = hour;
  }
  return lastHourDir;
}

/**
 * Offsets are int64 decimal strings; zero-padded so a folder lists in offset order. `logId` names the
 * log's incarnation where offsets restart (the embedded profile's in-process log, one per process);
 * Kafka's log is durable, so it has none.
 */
export function partFileName(partition: number, firstOffset: string, logId = ''): string {
  return `part-${partition}-${firstOffset.padStart(20, '0')}${logId ? `-${logId}` : ''}.jsonl.gz`;
}

export function parsePartFileName(name: string): { partition: number; firstOffset: bigint; logId: string } | null {
  const m = FILE_RE.exec(name);
  return m ? { partition: Number(m[1]), firstOffset: BigInt(m[2]), logId: m[3] ?? '' } : null;
}

export function checkpointFileName(partition: number): string {
  return `partition=${partition}.json`;
}

/** Start of the UTC day named `YYYY-MM-DD`, or null when it is not a real calendar date. */
export function parseDay(date: string): number | null {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) return null;
  const t = Date.parse(`${date}T00:00:00.000Z`);
  if (!Number.isFinite(t) || new Date(t).toISOString().slice(0, 10) !== date) return null; // 2026-02-30
  return t;
}

export function formatDay(ts: number): string {
  return new Date(ts).toISOString().slice(0, 10);
}

/**
 * Hour folders a day's report must read: the day itself plus `marginMs` either side, because a
 * click joins an impression up to the TTL before or after it (clicks may precede their impression).
 */
export function hourDirsForDay(dayStart: number, marginMs: number): string[] {
  const from = dayStart - Math.ceil(marginMs / HOUR_MS) * HOUR_MS;
  const to = dayStart + DAY_MS + Math.ceil(marginMs / HOUR_MS) * HOUR_MS;
  const out: string[] = [];
  for (let t = from; t < to; t += HOUR_MS) out.push(hourDir(t));
  return out;
}
