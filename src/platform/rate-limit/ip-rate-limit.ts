import type { FastifyInstance } from 'fastify';
import { RateLimiter } from './rate-limiter';

/** Probes from the orchestrator and the scraper must never be turned away. */
const EXEMPT = /^\/(health\/|metrics(\?|$))/;

/**
 * The per-IP limit, in Fastify's first hook: before the body is read and before the key check, so
 * keyless requests, bad keys and the public webhook are limited too. The per-key limit
 * (auth/api-key.guard.ts) applies on top. The IP is Fastify's req.ip, which trusts X-Forwarded-For only
 * from HTTP_TRUST_PROXY.
 */
export function installIpRateLimit(fastify: FastifyInstance, limiter: RateLimiter, perSecond: number): void {
  if (perSecond === 0) return;
  fastify.addHook('onRequest', async (req) => {
    if (EXEMPT.test(req.url)) return;
    await limiter.consume('ip', req.ip, perSecond, 1);
  });
}
