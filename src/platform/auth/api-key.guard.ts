import type { FastifyInstance, FastifyRequest, preHandlerHookHandler } from 'fastify';
import { timingSafeEqual } from 'node:crypto';
import type { ApiRole } from '../../config/app-config';
import { HttpGuardConfig } from '../../config/config-slice';
import { AppError } from '../errors/app-error';
import type { RateLimiter } from '../rate-limit/rate-limiter';
import { ACCESS, RouteAccess, roleSatisfies } from './roles.decorator';

export interface AuthenticatedRequest extends FastifyRequest {
  apiRole?: ApiRole;
  apiKey?: string;
}

/** Registered on Fastify directly, not by a Nest controller: no decorator can mark them public. */
const OPEN_PAGES = /^\/(?:$|console(?:\/|$)|docs(?:[/-]|$))/;

/**
 * X-API-Key on every route but @Public ones and the pages the platform serves outside Nest (the
 * console, its `/` redirect, the Swagger UI): 401 without a known key, 403 when its role is too low
 * (admin where the route names none, so a route that forgot its decorator fails closed), then the per-key rate limit (the
 * per-IP one runs earlier, ip-rate-limit.ts). @Public routes need no key. Each route's rule is read
 * from its config once, when Fastify registers it, and becomes that route's first preHandler: a
 * request pays no reflection and no Nest guard pipeline (issue 14). It runs where Nest's guards
 * ran: after body parsing and the text check, before validation and the handler.
 */
export function installApiKeyAuth(fastify: FastifyInstance, config: HttpGuardConfig, limiter: RateLimiter): void {
  const keys = [...config.apiKeys].map(([k, r]) => [Buffer.from(k), r, k] as const);
  // Constant-time per candidate so response timing does not leak key prefixes.
  const lookup = (presented: string) => {
    const p = Buffer.from(presented);
    return keys.find(([k]) => k.length === p.length && timingSafeEqual(k, p));
  };
  const perSecond = config.RATE_LIMIT_PER_SECOND;
  fastify.addHook('onRoute', (route) => {
    const access = (route.config as Record<string, RouteAccess> | undefined)?.[ACCESS];
    if ((access && 'public' in access) || (!access && OPEN_PAGES.test(route.url))) return;
    const needed = access?.role ?? 'admin';
    const check: preHandlerHookHandler = (request, _reply, done) => {
      const req = request as AuthenticatedRequest;
      const presented = req.headers['x-api-key'];
      if (typeof presented !== 'string' || presented === '') {
        return done(new AppError('unauthenticated', 'api_key_missing', 'X-API-Key header is required'));
      }
      const found = lookup(presented);
      if (!found) return done(new AppError('unauthenticated', 'api_key_invalid', 'X-API-Key is not a known key'));
      req.apiRole = found[1];
      req.apiKey = found[2];
      if (!roleSatisfies(found[1], needed)) {
        return done(new AppError('forbidden', 'role_forbidden', `this route needs the ${needed} role; the key has ${found[1]}`));
      }
      if (perSecond === 0) return done();
      limiter.consume('global', found[2], perSecond, 1).then(() => done(), done);
    };
    route.preHandler = [check, ...[route.preHandler ?? []].flat()];
  });
}
