import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { CronJob } from 'cron';
import { Board, BoardService } from '../application/board.service';
import { SeasonService } from '../application/season.service';
import { LeaderboardConfig } from '../leaderboard.config';

// Boards created through another instance are picked up by a re-scan every RESYNC_MS (PAGE boards
// a query); a failed scheduled reset is retried, for the same season, after RESET_RETRY_MS.
const [RESYNC_MS, RESET_RETRY_MS, PAGE] = [30_000, 30_000, 500];

/**
 * Runs each board's `resetSchedule` (cron, seconds field optional) as a dynamic CronJob in
 * @nestjs/schedule's SchedulerRegistry, only in processes with the `scheduler` role. Jobs are
 * registered at start-up for existing boards, on create in this process, and by a re-scan every
 * 30 s for boards created elsewhere. Several scheduler instances may tick together: the season
 * service's lock (board + season) lets exactly one of them reset.
 */
@Injectable()
export class LeaderboardResetScheduler implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger('leaderboard-scheduler');
  private readonly jobs = new Map<string, { schedule: string; job: CronJob }>();
  private resync?: NodeJS.Timeout;
  private stopped = false;

  constructor(
    private readonly boards: BoardService,
    private readonly seasons: SeasonService,
    private readonly registry: SchedulerRegistry,
    private readonly config: LeaderboardConfig,
  ) {}

  get enabled(): boolean {
    return this.config.hasRole('scheduler');
  }

  async onApplicationBootstrap(): Promise<void> {
    if (!this.enabled) return;
    this.boards.onBoardCreated((b) => this.schedule(b));
    await this.sync();
    this.resync = setInterval(() => void this.sync().catch((e) => this.log.warn(`re-scan failed: ${String(e)}`)), RESYNC_MS);
    this.resync.unref();
  }

  onModuleDestroy(): void {
    this.stopped = true;
    if (this.resync) clearInterval(this.resync);
    for (const id of [...this.jobs.keys()]) this.unschedule(id);
  }

  /** Registers a job for every board with a schedule. */
  async sync(): Promise<void> {
    for (let offset = 0; ; offset += PAGE) {
      const page = await this.boards.list(PAGE, offset);
      page.forEach((b) => this.schedule(b));
      if (page.length < PAGE) return;
    }
  }

  private jobName(boardId: string): string {
    return `leaderboard-reset:${boardId}`;
  }

  schedule(board: Board): void {
    if (this.stopped || !this.enabled) return;
    const current = this.jobs.get(board.id);
    if (current?.schedule === board.resetSchedule) return;
    if (current) this.unschedule(board.id);
    if (!board.resetSchedule) return;
    let job: CronJob;
    try {
      job = CronJob.from({ cronTime: board.resetSchedule, onTick: () => void this.tick(board.id), start: false });
    } catch (e) {
      this.log.warn(`board ${board.id}: invalid resetSchedule ${board.resetSchedule}: ${String(e)}`);
      return;
    }
    this.registry.addCronJob(this.jobName(board.id), job as never);
    this.jobs.set(board.id, { schedule: board.resetSchedule, job });
    job.start();
  }

  private unschedule(boardId: string): void {
    const cur = this.jobs.get(boardId);
    if (!cur) return;
    void cur.job.stop();
    this.jobs.delete(boardId);
    try {
      this.registry.deleteCronJob(this.jobName(boardId));
    } catch {
      // already gone (e.g. the registry was cleared at shutdown)
    }
  }

  /**
   * One tick: resets the board's current season unless another instance holds its lock. A failed
   * reset changed nothing (archive and season move commit together): its lock is released and the
   * same season is retried after RESET_RETRY_MS, so a scheduled reset is not skipped until the next
   * cron slot.
   */
  async tick(boardId: string, season?: number): Promise<boolean> {
    if (this.stopped) return false;
    let target = season;
    try {
      target ??= (await this.boards.board(boardId, true)).season;
      const r = await this.seasons.resetOnSchedule(boardId, target);
      if (r) this.log.log(`board ${boardId}: scheduled reset archived season ${r.archivedSeason} (${r.archivedEntries} entries)`);
      return r !== null;
    } catch (e) {
      this.log.warn(`board ${boardId}: scheduled reset failed, retrying in ${RESET_RETRY_MS / 1000} s: ${String(e)}`);
      const again = target;
      if (!this.stopped && again !== undefined) setTimeout(() => void this.tick(boardId, again), RESET_RETRY_MS).unref();
      return false;
    }
  }
}
