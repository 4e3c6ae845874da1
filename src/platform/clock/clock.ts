/** Injected wherever domain code needs "now", so tests control time. Milliseconds since the epoch. */
export abstract class Clock {
  abstract now(): number;
}

export class SystemClock extends Clock {
  now(): number {
    return Date.now();
  }
}

/** A clock that moves only when told to; for tests and the simulator. */
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
