import { Clock } from '../../src/platform/clock/clock';

/** A clock that moves only when told to (tests). */
export class ManualClock extends Clock {
  constructor(private t = 0) {
    super();
  }
  now(): number {
    return this.t;
  }
  set(t: number): void {
    this.t = t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
}
