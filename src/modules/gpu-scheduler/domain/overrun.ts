import { Task } from './model';

/**
 * Default re-prediction for a task past its predicted end, knowing nothing but how long it has run: a
 * quarter of its run so far, at least a minute (a task that overran by hours is not about to end this
 * second; one that overran by seconds is likely close to its end).
 */
export function overrunRemainingSec(_t: Task, elapsedSec: number): number {
  return Math.max(60, 0.25 * elapsedSec);
}
