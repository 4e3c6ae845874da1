import type { DailyReport, RealtimeRow, ReportCell } from '../domain';

export interface ReportRun {
  date: string;
  builtAt: string;
  buildMs: number;
  filesRead: number;
  recordsRead: number;
  recordsSkipped: number;
  duplicates: number;
  unmatchedClicks: number;
}

/** Built T+1 reports (a run row and hourly cells per day), and the real-time side of a day. */
export abstract class ReportRepository {
  /** Replaces the day's report at once (a rebuild is idempotent). */
  abstract save(date: string, r: DailyReport, meta: { buildMs: number; filesRead: number; recordsSkipped: number }): Promise<void>;
  abstract run(date: string): Promise<ReportRun | null>;
  abstract cells(date: string, campaignId?: string): Promise<ReportCell[]>;
  /** The real-time store's counts for windows starting in [from, to), partitions summed. */
  abstract realtime(from: number, to: number, campaignId?: string): Promise<RealtimeRow[]>;
}
