import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { Infrastructure } from './infrastructure';

/**
 * Closes the connections last. Nest runs every module's onModuleDestroy, then every
 * beforeApplicationShutdown (consumers commit and leave their groups, workers drain), then closes the
 * HTTP server, then onApplicationShutdown — so no hook finds its pool gone. Modules must therefore
 * not use onApplicationShutdown for work that needs a connection.
 *
 * (Overriding app.close does not work: Nest's application proxy has a `set` trap that drops it.)
 */
@Injectable()
export class InfrastructureCloser implements OnApplicationShutdown {
  constructor(private readonly infra: Infrastructure) {}

  onApplicationShutdown(): Promise<void> {
    return this.infra.close();
  }
}
