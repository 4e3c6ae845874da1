/**
 * Fuzzing driven by the OpenAPI document (issue 9): every operation of /docs-json gets generated
 * valid and invalid requests (fast-check, fixed seed, bounded runs) on the embedded app, and every
 * answer must be documented — no 5xx, a documented status and content type, a body matching its
 * schema (ajv), and no stack trace, file path or SQL in it. Ids flow between operations through the
 * document's OpenAPI links (create → read → act), so reads and actions also hit existing resources.
 */
import Ajv, { ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import fc from 'fast-check';
import { http, KEYS, startTestApp, TestApp } from '../support/app';
import { Components, deepNesting, HOSTILE_STRINGS, invalidValue, Schema, validValue } from '../support/openapi-arbitraries';

const SEED = 20261130;
const ROUNDS = 2;
const RUNS_PER_ROUND = 25;
const REQUEST_TIMEOUT_MS = 15_000;
const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;
/** Writes first, so later reads and actions find resources; deletes last. */
const ORDER: Record<string, number> = { post: 0, put: 1, get: 2, patch: 3, delete: 4 };

interface Parameter {
  name: string;
  example?: unknown;
  in: 'path' | 'query' | 'header';
  required?: boolean;
  schema: Schema;
}
interface Response {
  content?: Record<string, { schema?: Schema; example?: unknown }>;
  links?: Record<string, { operationId: string; parameters: Record<string, string> }>;
}
interface Operation {
  operationId: string;
  summary?: string;
  description?: string;
  parameters?: Parameter[];
  requestBody?: { content: Record<string, { schema: Schema; example?: unknown }> };
  responses: Record<string, Response>;
  security?: unknown[];
  'x-required-role'?: 'client' | 'service' | 'admin';
}
interface Op {
  method: (typeof METHODS)[number];
  path: string;
  op: Operation;
}
interface Doc {
  paths: Record<string, Partial<Record<(typeof METHODS)[number], Operation>>>;
  components: { schemas: Components };
}

type Auth = 'role' | 'admin' | 'none' | 'bad' | 'client';
interface Plan {
  auth: Auth;
  path: Record<string, { pool: number } | { value: unknown }>;
  query: [string, unknown][];
  headers: Record<string, string>;
  body?: { raw: string; contentType: string };
}

const STACK = /\bat [^\n]+\(?[^\s()]+:\d+:\d+\)?/;
const FILE_PATH = /(\/(work|home|usr|src|node_modules|tmp)\/[^\s"]*)|([\w-]+\.(ts|js):\d+)/;
const SQL = /\b(select\s[\s\S]*\sfrom|insert\s+into|update\s+\w+\s+set|delete\s+from)\b|syntax error at or near|violates \w+ constraint|relation "|invalid byte sequence/i;

describe('OpenAPI-driven fuzzing (embedded profile)', () => {
  let t: TestApp;
  let doc: Doc;
  let ops: Op[];
  let ajv: Ajv;
  /** Values for path parameters, harvested from 2xx responses through the document's links. */
  const pools = new Map<string, string[]>();
  /** A few examples per operation and kind of failure: a 500 seen 30 times is one finding. */
  const failures = new Map<string, string[]>();
  const seen = new Map<string, Map<number, number>>();

  beforeAll(async () => {
    t = await startTestApp({ RATE_LIMIT_PER_SECOND: '0' });
    const res = await http(t.url, 'GET', '/docs-json');
    expect(res.status).toBe(200);
    doc = res.body;
    ops = Object.entries(doc.paths)
      .flatMap(([path, item]) => METHODS.filter((m) => item[m]).map((method) => ({ method, path, op: item[method]! })))
      .sort((a, b) => rank(a) - rank(b));
    ajv = new Ajv({ strict: false, allErrors: false, validateFormats: true });
    addFormats(ajv);
    ajv.addSchema({ components: doc.components }, 'doc');
  });

  afterAll(async () => {
    await t?.close();
  });

  describe('the document', () => {
    it('gives every operation a summary, a description and an operationId, and every success a schema', () => {
      expect(ops.length).toBeGreaterThanOrEqual(45);
      for (const { method, path, op } of ops) {
        const where = `${method.toUpperCase()} ${path}`;
        expect({ where, summary: !!op.summary, description: !!op.description, id: !!op.operationId }).toEqual({ where, summary: true, description: true, id: true });
        for (const [status, r] of Object.entries(op.responses)) {
          if (status.startsWith('2') && status !== '204') {
            expect({ where, status, schema: Object.values(r.content ?? {}).some((c) => c.schema) }).toEqual({ where, status, schema: true });
          }
        }
      }
    });

    it('documents every /api error as application/problem+json with the Problem schema', () => {
      for (const { method, path, op } of ops.filter((o) => o.path.startsWith('/api/'))) {
        for (const [status, r] of Object.entries(op.responses)) {
          if (Number(status) < 400) continue;
          expect({ where: `${method} ${path} ${status}`, content: r.content }).toEqual({
            where: `${method} ${path} ${status}`,
            content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
          });
        }
      }
    });

    it('gives every /api success response and JSON request body an example', () => {
      for (const { method, path, op } of ops.filter((o) => o.path.startsWith('/api/'))) {
        const body = op.requestBody?.content['application/json'];
        if (body) expect({ where: `${method} ${path} request`, example: 'example' in body }).toEqual({ where: `${method} ${path} request`, example: true });
        for (const [status, r] of Object.entries(op.responses)) {
          if (!status.startsWith('2') || status === '204') continue;
          for (const [type, media] of Object.entries(r.content ?? {})) {
            expect({ where: `${method} ${path} ${status} ${type}`, example: 'example' in media }).toEqual({ where: `${method} ${path} ${status} ${type}`, example: true });
          }
        }
      }
    });

    it('marks open routes `security: []`, declares the auth errors of the others, and lists each header once', () => {
      for (const { method, path, op } of ops) {
        const where = `${method} ${path}`;
        const open = path.startsWith('/health/') || path === '/api/v1/payments/webhook';
        if (open) expect({ where, security: op.security }).toEqual({ where, security: [] });
        else expect({ where, role: op['x-required-role'], auth: ['401', '403'].every((s) => s in op.responses) }).toEqual({ where, role: expect.any(String), auth: true });
        const headers = (op.parameters ?? []).filter((p) => p.in === 'header').map((p) => p.name.toLowerCase());
        expect({ where, headers }).toEqual({ where, headers: [...new Set(headers)] });
      }
    });

    it('declares the server-sent events route as text/event-stream and links create → read → act', () => {
      expect(Object.keys(doc.paths['/api/v1/stats/stream'].get!.responses['200'].content!)).toEqual(['text/event-stream']);
      const linked = ops.flatMap(({ op }) => Object.values(op.responses).flatMap((r) => Object.values(r.links ?? {}).map((l) => l.operationId)));
      const ids = new Set(ops.map((o) => o.op.operationId));
      for (const id of linked) expect(ids.has(id)).toBe(true);
      expect(linked).toEqual(expect.arrayContaining(['TicketingController_getEvent', 'TicketingController_hold', 'TicketingController_checkout', 'LeaderboardController_player', 'GpuTasksController_get', 'CampaignsController_get']));
    });

    it('never puts `nullable` beside a reference (OpenAPI 3.0 ignores it there, so null would not validate)', () => {
      const offenders = JSON.stringify(doc)
        .match(/\{[^{}]*"nullable":true[^{}]*\}/g)
        ?.filter((s) => s.includes('"$ref"') || s.includes('"allOf"'));
      expect(offenders ?? []).toEqual([]);
      const viaAllOf = Object.entries(doc.components.schemas).flatMap(([name, schema]) =>
        Object.entries(schema.properties ?? {}).filter(([, p]) => p.nullable && (p.allOf || p.$ref)).map(([prop]) => `${name}.${prop}`),
      );
      expect(viaAllOf).toEqual([]);
    });

    it('keeps input schemas closed and their limits those of the validators', () => {
      const schemas = doc.components.schemas;
      expect(schemas.CreateLeaderboardDto).toMatchObject({ additionalProperties: false, properties: { id: { pattern: '^[A-Za-z0-9:_-]{1,64}$' } } });
      expect(schemas.SubmitTaskDto).toMatchObject({ additionalProperties: false, properties: { gpuCount: { type: 'integer', minimum: 1, maximum: 64 } } });
      expect(schemas.CreateHoldDto).toMatchObject({ properties: { seatIds: { maxItems: 100, items: { maxLength: 80 } } } });
    });
  });

  it('answers every generated request with a documented status, content type and body', async () => {
    // Two rounds: the second finds the ids the first one's creates left in the pools (a task
    // needs a node, a hold an event), whatever order the operations run in.
    const record = (o: Op, problem: { kind: string; example: string } | undefined) => {
      if (!problem) return;
      const key = `${o.method.toUpperCase()} ${o.path}: ${problem.kind}`;
      failures.set(key, [...(failures.get(key) ?? []), problem.example].slice(0, 3));
    };
    for (let round = 0; round < ROUNDS; round++) {
      for (const o of ops) {
        // fast-check counts `examples` within numRuns, so the fixed requests go first, on their own.
        for (const plan of [examplePlan(o), ...(round === 0 ? sweepOf(o) : [])]) record(o, await exercise(o, plan));
        await fc.assert(
          fc.asyncProperty(planOf(o), async (plan) => {
            record(o, await exercise(o, plan));
            return true;
          }),
          { seed: SEED + round, numRuns: RUNS_PER_ROUND, endOnFailure: true },
        );
      }
    }
    const total = [...seen.values()].reduce((n, m) => n + [...m.values()].reduce((a, b) => a + b, 0), 0);
    console.log(`openapi-fuzz: ${ops.length} operations, ${total} requests (${ROUNDS} × ${RUNS_PER_ROUND} generated each, plus examples and the hostile sweep); statuses seen:\n${summary()}`);
    expect(Object.fromEntries(failures)).toEqual({});
  }, 300_000);

  // ---------------------------------------------------------------------------------------------

  function rank({ method, path }: Op): number {
    const creates = method === 'post' && !path.includes('{');
    return (creates ? 0 : 10) + ORDER[method] + path.split('/').length / 100;
  }

  function planOf(o: Op, only?: 'valid'): fc.Arbitrary<Plan> {
    const { op } = o;
    const components = doc.components.schemas;
    const params = op.parameters ?? [];
    const valid = fc.record({
      auth: fc.constant<Auth>('role'),
      path: fc.record(Object.fromEntries(params.filter((p) => p.in === 'path').map((p) => [p.name, pathValue(p, false)]))),
      query: queryOf(params, false),
      headers: headersOf(params, false),
      body: bodyOf(o, false),
    });
    const invalid = fc.record({
      auth: fc.constantFrom<Auth>('role', 'role', 'role', 'none', 'bad', 'client'),
      path: fc.record(Object.fromEntries(params.filter((p) => p.in === 'path').map((p) => [p.name, pathValue(p, true)]))),
      query: queryOf(params, true),
      headers: headersOf(params, true),
      body: bodyOf(o, true),
    });
    return (only ? valid : fc.oneof(valid, invalid)) as fc.Arbitrary<Plan>;

    function pathValue(p: Parameter, hostile: boolean): fc.Arbitrary<Plan['path'][string]> {
      const options = [fc.nat().map((pool) => ({ pool })), validValue(p.schema, components).map((value) => ({ value }))];
      if (hostile) options.push(fc.constantFrom(...HOSTILE_STRINGS, 'x'.repeat(129), 'a'.repeat(1000)).map((value) => ({ value })));
      return fc.oneof(...options);
    }
  }

  /**
   * The documented request: the body's example, ids of the first resources the links collected,
   * and the parameters' examples — the happy path each round starts with.
   */
  function examplePlan(o: Op): Plan {
    const [base] = fc.sample(planOf(o, 'valid'), { seed: SEED, numRuns: 1 });
    const params = o.op.parameters ?? [];
    const example = o.op.requestBody?.content['application/json']?.example;
    const query = params
      .filter((p) => p.in === 'query' && (p.example !== undefined || p.schema.example !== undefined))
      .map((p): [string, unknown] => [p.name, p.example ?? p.schema.example]);
    return {
      ...base,
      path: Object.fromEntries(Object.keys(base.path).map((name) => [name, { pool: 0 }])),
      query: [...base.query.filter(([name]) => params.find((p) => p.name === name)?.required && !query.some(([q]) => q === name)), ...query],
      body: example === undefined ? base.body : { raw: JSON.stringify(example), contentType: 'application/json' },
    };
  }

  /**
   * Besides the random runs, each hostile string in each path parameter and a few hostile bodies,
   * on top of a valid request: the inputs that broke the service before are always tried.
   */
  function sweepOf(o: Op): Plan[] {
    const [base] = fc.sample(planOf(o, 'valid'), { seed: SEED, numRuns: 1 });
    const plans: Plan[] = [];
    for (const name of Object.keys(base.path)) {
      for (const value of [...HOSTILE_STRINGS, 'x'.repeat(129), 'x'.repeat(600)]) plans.push({ ...base, path: { ...base.path, [name]: { value } } });
    }
    if (base.body) {
      for (const v of [deepNesting(3000), { name: 'a\u0000b' }, { name: '\ud800' }, [], 'text', null]) {
        plans.push({ ...base, body: { raw: JSON.stringify(v), contentType: 'application/json' } });
      }
    }
    return plans;
  }

  function queryOf(params: Parameter[], hostile: boolean): fc.Arbitrary<[string, unknown][]> {
    const components = doc.components.schemas;
    const query = params.filter((p) => p.in === 'query');
    const entries = query.map((p) =>
      (hostile ? fc.oneof(validValue(p.schema, components), invalidValue(p.schema, components)) : validValue(p.schema, components)).map(
        (v) => [p.name, v] as [string, unknown],
      ),
    );
    const arb = fc.tuple(...entries.map((e, i) => (query[i].required ? e.map((x) => [x]) : fc.oneof(fc.constant([]), e.map((x) => [x]))))).map((xs) => xs.flat() as [string, unknown][]);
    return hostile ? fc.tuple(arb, fc.boolean()).map(([q, extra]) => (extra ? [...q, ['unknownParam', '1']] : q)) : arb;
  }

  function headersOf(params: Parameter[], hostile: boolean): fc.Arbitrary<Record<string, string>> {
    const headers = params.filter((p) => p.in === 'header');
    const components = doc.components.schemas;
    return fc
      .tuple(
        ...headers.map((p) => {
          const value = validValue(p.schema, components).map((v) => String(v)).filter((v) => /^[\x20-\x7e]*$/.test(v) && v.trim() === v);
          const present = p.required && !hostile ? value : fc.option(value, { nil: undefined });
          return present.map((v) => [p.name, v] as const);
        }),
      )
      .map((pairs) => Object.fromEntries(pairs.filter(([, v]) => v !== undefined)) as Record<string, string>);
  }

  function bodyOf({ method, op }: Op, hostile: boolean): fc.Arbitrary<Plan['body']> {
    const json = op.requestBody?.content['application/json'];
    const components = doc.components.schemas;
    if (!json) {
      const takesBody = method === 'post' || method === 'put' || method === 'patch';
      return hostile && takesBody ? fc.option(fc.constantFrom('{"a":', '{"a":1}'), { nil: undefined }).map((raw) => raw && { raw, contentType: 'application/json' }) : fc.constant(undefined);
    }
    const asJson = (v: unknown) => ({ raw: JSON.stringify(v) ?? 'null', contentType: 'application/json' });
    if (!hostile) return validValue(json.schema, components).map(asJson);
    return fc.oneof(
      { weight: 6, arbitrary: invalidValue(json.schema, components).map(asJson) },
      { weight: 1, arbitrary: validValue(json.schema, components).map((v) => ({ raw: new URLSearchParams({ v: JSON.stringify(v) }).toString(), contentType: 'application/x-www-form-urlencoded' })) },
      { weight: 1, arbitrary: fc.constantFrom('{"a":', '[1,2', 'nul', '{"a":1}}', '').map((raw) => ({ raw, contentType: 'application/json' })) },
      { weight: 1, arbitrary: fc.constant({ raw: 'just text', contentType: 'text/plain' }) },
    );
  }

  async function exercise(o: Op, plan: Plan): Promise<{ kind: string; example: string } | undefined> {
    const problem = await send(o, plan);
    return problem && { kind: problem[0], example: problem[1] };
  }

  /** Sends the planned request; returns [kind, example] when the answer breaks the contract. */
  async function send({ method, path, op }: Op, plan: Plan): Promise<[string, string] | undefined> {
    const pathValues: Record<string, string> = {};
    let url = path.replace(/\{(\w+)\}/g, (_, name: string) => {
      const v = plan.path[name];
      const pool = pools.get(name) ?? [];
      const value = 'pool' in v ? (pool.length > 0 ? pool[v.pool % pool.length] : 'missing-id') : String(v.value);
      pathValues[name] = value;
      return encodePathSegment(value);
    });
    const search = new URLSearchParams(plan.query.map(([k, v]): [string, string] => [k, typeof v === 'object' ? JSON.stringify(v) : String(v)]));
    if (plan.query.length > 0) url += `?${search}`;
    const headers: Record<string, string> = { ...plan.headers };
    const key = { role: KEYS[op['x-required-role'] ?? 'admin'], admin: KEYS.admin, client: KEYS.client, bad: 'not-a-key', none: undefined }[plan.auth];
    if (key) headers['x-api-key'] = key;
    if (plan.body) headers['content-type'] = plan.body.contentType;
    const where = `${method.toUpperCase()} ${url.slice(0, 160)} [${plan.auth}] body=${(plan.body?.raw ?? '').slice(0, 160)}`;

    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), REQUEST_TIMEOUT_MS);
    let res: Awaited<ReturnType<typeof fetch>>;
    try {
      res = await fetch(t.url + url, { method: method.toUpperCase(), headers, body: plan.body?.raw, signal: abort.signal });
    } catch (e) {
      clearTimeout(timer);
      return ['no answer', `${where}: ${(e as Error).message}`];
    }
    const contentType = (res.headers.get('content-type') ?? '').split(';')[0].trim();
    let text = '';
    if (contentType === 'text/event-stream') abort.abort();
    else text = await res.text();
    clearTimeout(timer);
    count(`${method.toUpperCase()} ${path}`, res.status);

    if (res.status >= 500 && !(res.status === 503 && op.responses['503'])) return [`server error ${res.status}`, `${where}: ${text.slice(0, 300)}`];
    const documented = op.responses[String(res.status)];
    if (!documented) return [`undocumented status ${res.status}`, `${where}: ${text.slice(0, 300)}`];
    if (STACK.test(text) || FILE_PATH.test(text) || SQL.test(text)) return ['leaks internals', `${where}: ${text.slice(0, 300)}`];
    if (res.status === 204 || !documented.content) return undefined;
    const media = documented.content[contentType];
    if (!media) return [`${res.status} as ${contentType || 'no content type'}`, `${where}: documented ${Object.keys(documented.content).join(', ')}`];
    if (contentType === 'text/event-stream' || !media.schema) return undefined;
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return [`${res.status} body is not JSON`, `${where}: ${text.slice(0, 200)}`];
    }
    const validate = validator(media.schema);
    if (!validate(body)) return [`${res.status} body off its schema: ${ajv.errorsText(validate.errors)}`, `${where}: ${text.slice(0, 300)}`];
    if (res.status < 300) harvest(documented, body, pathValues);
    return undefined;
  }

  function harvest(response: Response, body: unknown, pathValues: Record<string, string>): void {
    for (const link of Object.values(response.links ?? {})) {
      for (const [name, expr] of Object.entries(link.parameters)) {
        const value = expr.startsWith('$response.body#/')
          ? pointer(body, expr.slice('$response.body#/'.length))
          : expr.startsWith('$request.path.')
            ? pathValues[expr.slice('$request.path.'.length)]
            : undefined;
        if (typeof value !== 'string' && typeof value !== 'number') continue;
        const pool = pools.get(name) ?? [];
        // The first ones stay: the documented examples' resources are what `{ pool: 0 }` means.
        if (!pool.includes(String(value)) && pool.length < 20) pools.set(name, [...pool, String(value)]);
      }
    }
  }

  const validators = new Map<string, ValidateFunction>();
  function validator(schema: Schema): ValidateFunction {
    const key = JSON.stringify(schema);
    let v = validators.get(key);
    if (!v) {
      v = ajv.compile(rebase(schema));
      validators.set(key, v);
    }
    return v;
  }

  function count(op: string, status: number): void {
    const m = seen.get(op) ?? new Map<number, number>();
    m.set(status, (m.get(status) ?? 0) + 1);
    seen.set(op, m);
  }

  function summary(): string {
    return [...seen.entries()].map(([op, m]) => `  ${op}: ${[...m.entries()].sort((a, b) => a[0] - b[0]).map(([s, n]) => `${s}×${n}`).join(' ')}`).join('\n');
  }

});

/** Like encodeURIComponent, but a lone surrogate goes out as the (invalid UTF-8) bytes a careless client sends. */
function encodePathSegment(value: string): string {
  return [...value].map((c) => (/^[\ud800-\udfff]$/.test(c) ? '%ED%A0%80' : encodeURIComponent(c))).join('');
}

/** Points the document's local `#/components/...` references at the schema registered as `doc`. */
function rebase(schema: Schema): object {
  return JSON.parse(JSON.stringify(schema).replace(/"#\/components\//g, '"doc#/components/'));
}

function pointer(value: unknown, path: string): unknown {
  return path.split('/').reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k.replace(/~1/g, '/').replace(/~0/g, '~')] : undefined), value);
}
