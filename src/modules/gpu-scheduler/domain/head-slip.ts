import { Reservation } from './schedule-cycle';

/**
 * Head-task slip: actual start minus the first reservation the task got as the blocked head. Backfill
 * must not delay the head: with exact runtime predictions the slip is <= 0, and it should stay within the
 * prediction error otherwise. Feed it every cycle's reservation and every start.
 */
export class HeadSlipTracker {
  private readonly first = new Map<string, number>();

  /** Keeps the first finite reservation of each task. */
  observe(r: Reservation | undefined): void {
    if (r && Number.isFinite(r.at) && !this.first.has(r.taskId)) this.first.set(r.taskId, r.at);
  }

  /** The task started at `at`: its slip in seconds, or undefined if it never held a reservation. */
  started(taskId: string, at: number): number | undefined {
    const f = this.first.get(taskId);
    if (f === undefined) return undefined;
    this.first.delete(taskId);
    return at - f;
  }

  /** Forgets the tasks `queued` says no longer wait (they left the queue another way: cancelled, bound elsewhere). */
  retain(queued: (taskId: string) => boolean): void {
    for (const id of this.first.keys()) if (!queued(id)) this.first.delete(id);
  }
}
