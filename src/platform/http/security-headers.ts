import helmet from '@fastify/helmet';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';

/**
 * helmet's headers on every response (nosniff, HSTS, referrer policy, ...) with a CSP that allows
 * only this origin: Swagger UI (/docs) and the web console load their scripts and styles from
 * here and fetch (and EventSource) here. Swagger UI's page carries inline <style> blocks, hence
 * 'unsafe-inline' for styles only. No upgrade-insecure-requests: it would break plain-HTTP
 * deployments' own assets.
 */
export async function installSecurityHeaders(app: NestFastifyApplication): Promise<void> {
  await app.register(helmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        'default-src': ["'self'"],
        'base-uri': ["'self'"],
        'connect-src': ["'self'"],
        'font-src': ["'self'", 'data:'],
        'form-action': ["'self'"],
        'frame-ancestors': ["'none'"],
        'img-src': ["'self'", 'data:'],
        'object-src': ["'none'"],
        'script-src': ["'self'"],
        'script-src-attr': ["'none'"],
        'style-src': ["'self'", "'unsafe-inline'"],
      },
    },
    frameguard: { action: 'deny' },
  });
  // API answers are per-caller and often change second to second: no cache may keep them.
  app.getHttpAdapter().getInstance().addHook('onRequest', async (req, reply) => {
    if (req.url.startsWith('/api/')) void reply.header('cache-control', 'no-store');
  });
}
