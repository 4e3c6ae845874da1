/** Injected wherever domain code needs "now", so tests control time. Milliseconds since the epoch. */
export abstract class Clock {
  abstract now(): number;
}

export class SystemClock extends Clock {
  now(): number {
    return Date.now();
  }
}
