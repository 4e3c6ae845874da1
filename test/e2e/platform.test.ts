import { Body, Controller, Get, Module, Post } from '@nestjs/common';
import { Type } from 'class-transformer';
import { IsInt, IsString, Max, Min } from 'class-validator';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../src/config/app-config';
import { RequireRole } from '../../src/platform/auth/roles.decorator';
import { http, KEYS, startTestApp, TestApp } from '../support/app';

class ProbeDto {
  @IsString()
  name!: string;

  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(10)
  count!: number;
}

/** A probe route standing in for any module's validated write route. */
@Controller('api/v1/probe')
class ProbeController {
  @RequireRole('service')
  @Post()
  create(@Body() dto: ProbeDto) {
    return { ok: true, dto };
  }

  @RequireRole('client')
  @Get('boom')
  boom(): never {
    throw new Error('secret internals at /srv/app.ts:12');
  }
}

@Module({ controllers: [ProbeController] })
class ProbeModule {}

describe('platform (embedded profile over HTTP)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ RATE_LIMIT_PER_SECOND: '0', HTTP_BODY_LIMIT_BYTES: '4096' }, [ProbeModule]);
  });
  afterAll(() => t.close());

  it('is live and ready with no servers', async () => {
    expect((await http(t.url, 'GET', '/health/live')).status).toBe(200);
    const ready = await http(t.url, 'GET', '/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body.status).toBe('ok');
    expect(Object.keys(ready.body.info)).toEqual(['database']);
  });

  it('serves Swagger UI and the OpenAPI document listing existing routes', async () => {
    const ui = await http(t.url, 'GET', '/docs');
    expect(ui.status).toBe(200);
    expect(String(ui.body)).toContain('swagger');
    const doc = await http(t.url, 'GET', '/docs-json');
    expect(doc.status).toBe(200);
    expect(Object.keys(doc.body.paths)).toEqual(expect.arrayContaining(['/health/ready', '/api/v1/probe']));
  });

  it('exposes Prometheus metrics with per-route latency', async () => {
    await http(t.url, 'GET', '/health/live');
    const m = await http(t.url, 'GET', '/metrics');
    expect(m.status).toBe(200);
    expect(m.headers.get('content-type')).toContain('text/plain');
    expect(m.body).toContain('http_request_duration_seconds_bucket{');
    expect(m.body).toContain('route="/health/live"');
    expect(m.body).toContain('process_cpu_user_seconds_total');
  });

  it('echoes a given X-Request-Id and mints one otherwise', async () => {
    const given = await http(t.url, 'GET', '/health/live', { headers: { 'x-request-id': 'abc-123' } });
    expect(given.headers.get('x-request-id')).toBe('abc-123');
    const minted = await http(t.url, 'GET', '/health/live');
    expect(minted.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers 401 without a key, 401 with an unknown key, 403 with too low a role', async () => {
    const none = await http(t.url, 'POST', '/api/v1/probe', { body: { name: 'a', count: 1 } });
    expect(none.status).toBe(401);
    expect(none.headers.get('content-type')).toContain('application/problem+json');
    expect(none.body.code).toBe('api_key_missing');
    expect((await http(t.url, 'POST', '/api/v1/probe', { key: 'nope-nope-nope', body: {} })).status).toBe(401);
    const low = await http(t.url, 'POST', '/api/v1/probe', { key: KEYS.client, body: { name: 'a', count: 1 } });
    expect(low.status).toBe(403);
    expect(low.body.code).toBe('role_forbidden');
    const ok = await http(t.url, 'POST', '/api/v1/probe', { key: KEYS.admin, body: { name: 'a', count: 1 } });
    expect(ok.status).toBe(201);
  });

  it('rejects unknown fields and wrong types with a field list', async () => {
    const r = await http(t.url, 'POST', '/api/v1/probe', { key: KEYS.service, body: { name: 5, count: 'x', extra: 1 } });
    expect(r.status).toBe(400);
    expect(r.headers.get('content-type')).toContain('application/problem+json');
    expect(r.body.code).toBe('validation_failed');
    const fields = r.body.errors.map((e: { field: string }) => e.field);
    expect(fields).toEqual(expect.arrayContaining(['name', 'count', 'extra']));
    expect(r.body.requestId).toBeTruthy();
  });

  it('answers malformed JSON, wrong content type and oversized bodies with 4xx problem+json', async () => {
    const bad = await http(t.url, 'POST', '/api/v1/probe', { key: KEYS.service, raw: '{"name":' });
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('malformed_request');
    const big = await http(t.url, 'POST', '/api/v1/probe', {
      key: KEYS.service,
      body: { name: 'x'.repeat(10000), count: 1 },
    });
    expect(big.status).toBe(400);
    expect(big.body.code).toBe('body_too_large');
    const type = await http(t.url, 'POST', '/api/v1/probe', {
      key: KEYS.service,
      raw: '<probe><name>a</name></probe>',
      headers: { 'content-type': 'application/xml' },
    });
    expect(type.status).toBe(415);
    expect(type.headers.get('content-type')).toContain('application/problem+json');
  });

  it('hides internals of unexpected errors behind a 500 problem with the request id', async () => {
    const r = await http(t.url, 'GET', '/api/v1/probe/boom', { key: KEYS.client });
    expect(r.status).toBe(500);
    expect(JSON.stringify(r.body)).not.toContain('secret internals');
    expect(r.body.requestId).toBe(r.headers.get('x-request-id'));
  });

  it('answers unknown routes with a 404 problem', async () => {
    const r = await http(t.url, 'GET', '/api/v1/nothing-here', { key: KEYS.admin });
    expect(r.status).toBe(404);
    expect(r.headers.get('content-type')).toContain('application/problem+json');
  });
});

describe('rate limiting', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ RATE_LIMIT_PER_SECOND: '5' }, [ProbeModule]);
  });
  afterAll(() => t.close());

  it('answers 429 with Retry-After past the per-key limit', async () => {
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 8; i++) {
      const r = await http(t.url, 'POST', '/api/v1/probe', { key: KEYS.service, body: { name: 'a', count: 1 } });
      statuses.push(r.status);
      if (r.status === 429) retryAfter = r.headers.get('retry-after');
    }
    expect(statuses.filter((s) => s === 201).length).toBeLessThanOrEqual(5);
    expect(statuses).toContain(429);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
  });
});

describe('configuration', () => {
  it('reports one line per bad value', () => {
    let err: ConfigError | undefined;
    try {
      loadConfig({ PORT: 'abc', APP_PROFILE: 'cloud', APP_ROLES: 'api,chef' });
    } catch (e) {
      err = e as ConfigError;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect(err!.problems).toHaveLength(3);
    expect(err!.problems.find((p) => p.startsWith('PORT='))).toContain('"abc"');
  });

  it('full profile refuses to start without API_KEYS; embedded falls back to the dev key', () => {
    expect(() => loadConfig({ APP_PROFILE: 'full' })).toThrow(/API_KEYS/);
    const c = loadConfig({});
    expect(c.usingDevKey).toBe(true);
    expect(c.apiKeys.get('dev-admin-key')).toBe('admin');
  });

  it.each([
    [{ APP_PROFILE: 'full' }, /API_KEYS/],
    [{ PORT: 'abc' }, /PORT="abc"/],
  ])('the process exits non-zero with a one-line reason for %j', (env, reason) => {
    const r = spawnSync(process.execPath, ['-r', 'ts-node/register/transpile-only', join(__dirname, '../../src/main.ts')], {
      env: { PATH: process.env.PATH, ...env },
      encoding: 'utf8',
      timeout: 30000,
    });
    expect(r.status).not.toBe(0);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(reason);
  });
});
