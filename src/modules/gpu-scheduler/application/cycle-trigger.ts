import { Injectable } from '@nestjs/common';

/**
 * In-process signal "something changed, run a cycle soon" from the API paths (submit, report, node
 * change) to the scheduler loop, without the services depending on the loop. A process without the
 * scheduler role has no listener; the active scheduler elsewhere picks the change up on its
 * periodic cycle.
 */
@Injectable()
export class CycleTrigger {
  private listener: (() => void) | undefined;

  listen(fn: () => void): void {
    this.listener = fn;
  }

  request(): void {
    this.listener?.();
  }
}
