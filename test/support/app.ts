import type { Type } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { randomBytes } from 'node:crypto';
import { createApp } from '../../src/app';
import { AppConfig, loadConfig } from '../../src/config/app-config';
import { TEST_SERVICES } from './services';

export const KEYS = { admin: 'test-admin-key', service: 'test-service-key', client: 'test-client-key' } as const;

export interface TestApp {
  app: NestFastifyApplication;
  config: AppConfig;
  url: string;
  close(): Promise<void>;
}

/**
 * Boots the real application on an ephemeral port. Each app gets its own NAMESPACE, so topics,
 * consumer groups, Redis keys and queues never collide between test files running in parallel.
 */
export async function startTestApp(env: Record<string, string> = {}, extra: Type[] = []): Promise<TestApp> {
  const profile = env.APP_PROFILE ?? 'embedded';
  const config = loadConfig({
    APP_PROFILE: profile,
    NAMESPACE: `t-${randomBytes(4).toString('hex')}`,
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    DATA_DIR: 'memory',
    ...TEST_SERVICES,
    KAFKA_PARTITIONS: '3',
    API_KEYS: `admin:${KEYS.admin},service:${KEYS.service},client:${KEYS.client}`,
    NODE_ENV: 'test',
    ...env,
  });
  const app = await createApp(config, extra);
  // The 2,000-parallel-request tests open that many connections at once: Node's default listen
  // backlog (511) overflows on a busy box and the kernel resets some of them (ECONNRESET).
  await app.listen({ port: 0, host: '127.0.0.1', backlog: 4096 });
  const address = app.getHttpServer().address() as { port: number };
  return { app, config, url: `http://127.0.0.1:${address.port}`, close: () => app.close() };
}

/** fetch with JSON in and out; returns status, headers and the parsed body. */
export async function http(
  base: string,
  method: string,
  path: string,
  opts: { key?: string; body?: unknown; headers?: Record<string, string>; raw?: string } = {},
): Promise<{ status: number; headers: Headers; body: any }> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (opts.key) headers['x-api-key'] = opts.key;
  let payload: string | undefined = opts.raw;
  if (opts.body !== undefined) payload = JSON.stringify(opts.body);
  if (payload !== undefined) headers['content-type'] ??= 'application/json';
  const res = await fetch(base + path, { method, headers, body: payload });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    /* not JSON: keep the text */
  }
  return { status: res.status, headers: res.headers, body };
}

/**
 * Polls `fn` until `ok` accepts its value or `ms` pass, and returns the last value (the caller's
 * assertion on it then says what was missing).
 */
export async function pollUntil<T>(fn: () => Promise<T>, ok: (v: T) => boolean, ms = 10000, everyMs = 20): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (ok(v) || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Polls `check` until it holds (every 50 ms), failing after `timeoutMs`. */
export async function until(check: () => Promise<boolean>, timeoutMs = 15000): Promise<void> {
  if (!(await pollUntil(check, (held) => held, timeoutMs, 50))) throw new Error('condition not met in time');
}

/**
 * Probes until `ok` accepts the value, retrying up to `tries` times 50 ms apart, and returns it;
 * otherwise fails naming `what` and the last value seen.
 */
export async function probeUntil<T>(what: string, probe: () => Promise<T>, ok: (v: T) => boolean, tries = 200): Promise<T> {
  let v = await probe();
  for (let i = 0; i < tries && !ok(v); i++) {
    await new Promise((r) => setTimeout(r, 50));
    v = await probe();
  }
  if (!ok(v)) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v)}`);
  return v;
}
