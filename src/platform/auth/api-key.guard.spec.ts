import Fastify, { FastifyInstance } from 'fastify';
import { HttpGuardConfig } from '../../config/config-slice';
import { AppError } from '../errors/app-error';
import type { RateLimiter } from '../rate-limit/rate-limiter';
import { installApiKeyAuth } from './api-key.guard';
import { ACCESS } from './roles.decorator';

const config = { apiKeys: new Map([['admin-key', 'admin'], ['client-key', 'client']]), RATE_LIMIT_PER_SECOND: 0 } as unknown as HttpGuardConfig;
const limiter = {} as RateLimiter;

async function appWith(routes: { url: string; config?: Record<string, unknown> }[]): Promise<FastifyInstance> {
  const app = Fastify();
  installApiKeyAuth(app, config, limiter);
  app.setErrorHandler((e, _req, reply) => reply.status(e instanceof AppError ? (e.kind === 'forbidden' ? 403 : 401) : 500).send({ code: (e as AppError).code }));
  for (const r of routes) app.get(r.url, { config: r.config ?? {} }, async () => ({ ok: true }));
  await app.ready();
  return app;
}

describe('installApiKeyAuth', () => {
  it('fails closed: a route that names no access rule needs the admin key, under /api/ or not', async () => {
    const app = await appWith([{ url: '/api/v1/x' }, { url: '/internal/x' }]);
    for (const url of ['/api/v1/x', '/internal/x']) {
      expect((await app.inject({ url })).json()).toEqual({ code: 'api_key_missing' });
      expect((await app.inject({ url, headers: { 'x-api-key': 'client-key' } })).json()).toEqual({ code: 'role_forbidden' });
      expect((await app.inject({ url, headers: { 'x-api-key': 'admin-key' } })).json()).toEqual({ ok: true });
    }
    await app.close();
  });

  it('leaves the console, its redirect and the Swagger UI open, and honours @Public and @RequireRole', async () => {
    const app = await appWith([
      { url: '/' }, { url: '/console/' }, { url: '/console/app.js' }, { url: '/docs' }, { url: '/docs-json' },
      { url: '/open', config: { [ACCESS]: { public: true } } },
      { url: '/api/v1/c', config: { [ACCESS]: { role: 'client' } } },
    ]);
    for (const url of ['/', '/console/', '/console/app.js', '/docs', '/docs-json', '/open']) {
      expect({ url, body: (await app.inject({ url })).json() }).toEqual({ url, body: { ok: true } });
    }
    expect((await app.inject({ url: '/api/v1/c', headers: { 'x-api-key': 'client-key' } })).json()).toEqual({ ok: true });
    expect((await app.inject({ url: '/api/v1/c' })).json()).toEqual({ code: 'api_key_missing' });
    await app.close();
  });
});
