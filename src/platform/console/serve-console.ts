import fastifyStatic from '@fastify/static';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const CONSOLE_PATH = '/console/';

/**
 * Where `npm run build` puts the console (dist/console). This file runs from dist/src/platform/console
 * after `nest build` and from src/platform/console under ts-node/jest; both resolve to the same folder.
 */
export function consoleDir(): string | undefined {
  const candidates = [resolve(__dirname, '../../../console'), resolve(__dirname, '../../../dist/console')];
  return candidates.find((d) => existsSync(join(d, 'index.html')));
}

/**
 * The web console: static files under /console/ (hashed assets cached for a year, index.html
 * revalidated), and `/` redirects there. It is a client of the public /api/v1 API like any other,
 * so nothing here touches a module. Without a build (e.g. a bare `ts-node` run) /console/ says how
 * to build it instead of a 404.
 */
export async function serveConsole(app: NestFastifyApplication, dir = consoleDir()): Promise<void> {
  const fastify = app.getHttpAdapter().getInstance();
  fastify.get('/', (_req, reply) => reply.redirect(CONSOLE_PATH, 302));
  if (!dir) {
    fastify.get('/console', (_req, reply) => reply.redirect(CONSOLE_PATH, 302));
    fastify.get(CONSOLE_PATH, (_req, reply) =>
      reply.code(503).type('text/plain; charset=utf-8').send('The console is not built: run `npm run build`.\n'),
    );
    return;
  }
  await app.register(fastifyStatic, {
    root: dir,
    prefix: CONSOLE_PATH,
    redirect: true,
    wildcard: true,
    index: ['index.html'],
    setHeaders: (reply, path) => {
      void reply.header('cache-control', /[.-][0-9A-Z]{8}\.(js|css)$/.test(path) ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
  });
}
