import { Res, ServiceUnavailableException } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { ApiController, Endpoint } from '../openapi';
import { Infrastructure } from '../infrastructure';
import { withTimeout } from '../with-timeout';

const PING_TIMEOUT_MS = 1500;

@ApiController('health', 'health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicator: HealthIndicatorService,
    private readonly infra: Infrastructure,
  ) {}

  @Endpoint('GET live', 'public', 'Liveness', {
    description: 'The process is up and serving HTTP; says nothing about dependencies. No API key.',
    responses: [{ status: 200, description: 'up', schema: { type: 'object', properties: { status: { type: 'string', enum: ['ok'] } }, required: ['status'] }, example: { status: 'ok', info: {}, error: {}, details: {} } }],
  })
  @HealthCheck()
  live() {
    return this.health.check([]);
  }

  @Endpoint('GET ready', 'public', 'Readiness', {
    description: 'Every backing service of the profile answers within 1.5 s; 503 names the ones that do not (and recovers without a restart). No API key.',
    responses: [{ status: 200, description: 'ready', schema: { type: 'object' }, example: { status: 'ok', info: { database: { status: 'up' } }, error: {}, details: { database: { status: 'up' } } } }],
  })
  @HealthCheck()
  async ready(@Res({ passthrough: true }) reply: FastifyReply) {
    // Terminus reports failure by throwing; answer its own body (which names the failed
    // dependency) with 503 rather than letting it become a generic problem document.
    return this.check().catch((e: unknown) => {
      if (!(e instanceof ServiceUnavailableException)) throw e;
      void reply.status(503);
      return e.getResponse();
    });
  }

  private check() {
    return this.health.check(
      this.infra.dependencies().map(([name, ping]) => async () => {
        const check = this.indicator.check(name);
        try {
          await withTimeout(ping(), PING_TIMEOUT_MS, `no answer within ${PING_TIMEOUT_MS} ms`);
          return check.up();
        } catch (e) {
          return check.down({ message: (e as Error).message });
        }
      }),
    );
  }
}
