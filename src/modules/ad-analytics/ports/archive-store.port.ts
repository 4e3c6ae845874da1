import type { ArchivedRecord } from '../domain';

/** Per partition: the next offset not yet archived, the owner's epoch, and a flush in progress. */
export interface ArchiveCheckpoint {
  next: string;
  epoch: number;
  /** the log incarnation these offsets belong to ('' for a log whose offsets never restart) */
  logId?: string;
  /** set between renaming a flush's files into place and recording its end: those files are undone on recovery */
  inflight?: { firstOffset: string; dirs: string[] };
}

export class LostPartition extends Error {
  constructor(readonly partition: number) {
    super(`archive partition ${partition} is owned by another archiver now`);
  }
}

/** The raw-event archive (layout: domain/archive-layout.ts), exactly once per partition and offset. */
export abstract class ArchiveStore {
  /**
   * Takes a partition over: undoes a flush that was put in place but never recorded, and bumps the
   * epoch, so a previous owner that still flushes gets LostPartition. Returns where to resume.
   */
  abstract recover(partition: number): Promise<ArchiveCheckpoint>;
  /** Writes `lines` (by hour folder) covering offsets [firstOffset, next); LostPartition when `epoch` is stale. */
  abstract flush(partition: number, epoch: number, firstOffset: string, next: string, lines: Map<string, string[]>): Promise<void>;
  /** The day's files (± margin) grouped by log and partition, each list in offset order. */
  abstract filesForDay(dayStart: number, marginMs: number): Promise<Map<string, string[]>>;
  /** One file's records; lines without a valid event are skipped (counted). */
  abstract readFile(path: string): Promise<{ records: ArchivedRecord[]; skipped: number }>;
}
