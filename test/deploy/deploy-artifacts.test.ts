/**
 * The deploy artifacts are kept correct by reading (no Docker or Kubernetes here), so this suite
 * reads them the way those tools would: every Kubernetes object validates against the API schema
 * (kubernetes-models), references between objects resolve, every environment variable is a knob
 * Tetrad documents, and every metric an alert or dashboard queries is one the app exports.
 * (`promtool check rules` and `promtool test rules` run in scripts/test.sh.)
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import * as core from 'kubernetes-models/v1';
import * as apps from 'kubernetes-models/apps/v1';
import * as autoscaling from 'kubernetes-models/autoscaling/v2';
import * as policy from 'kubernetes-models/policy/v1';
import { http, KEYS, pollUntil, startTestApp, TestApp } from '../support/app';

const ROOT = join(__dirname, '../..');
const read = (...p: string[]) => readFileSync(join(ROOT, ...p), 'utf8');

type K8sObject = { apiVersion: string; kind: string; metadata: { name: string }; spec?: any; data?: any; stringData?: any };
const MODELS: Record<string, Record<string, any>> = { v1: core, 'apps/v1': apps, 'autoscaling/v2': autoscaling, 'policy/v1': policy };

/** Knobs documented in .env.example (set or commented out), plus what the platform sets itself. */
function documentedKnobs(): Set<string> {
  const names = [...read('.env.example').matchAll(/^#?\s*([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]);
  // Read by the NVIDIA container runtime, not by Tetrad.
  return new Set([...names, 'NVIDIA_VISIBLE_DEVICES']);
}

describe('Kubernetes manifests (deploy/k8s)', () => {
  const dir = join(ROOT, 'deploy/k8s');
  const kustomization = parse(read('deploy/k8s/kustomization.yaml')) as { resources: string[] };
  const objects: K8sObject[] = kustomization.resources.flatMap((f) =>
    parseAllDocuments(readFileSync(join(dir, f), 'utf8')).map((d) => d.toJS() as K8sObject),
  );
  const named = (kind: string) => new Map(objects.filter((o) => o.kind === kind).map((o) => [o.metadata.name, o]));
  const workloads = objects.filter((o) => o.kind === 'Deployment' || o.kind === 'DaemonSet');

  it('lists every manifest file in the kustomization', () => {
    const files = readdirSync(dir).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
    expect(new Set(kustomization.resources)).toEqual(new Set(files));
  });

  it('has objects that validate against the Kubernetes API schema', () => {
    expect(objects.length).toBeGreaterThan(10);
    for (const o of objects) {
      const Model = MODELS[o.apiVersion]?.[o.kind];
      expect(`${o.apiVersion} ${o.kind} ${Model ? 'known' : 'unknown'}`).toBe(`${o.apiVersion} ${o.kind} known`);
      expect(() => new Model(o).validate()).not.toThrow();
    }
  });

  it('runs the api, worker, scheduler and agent roles, each with health probes', () => {
    const roles = workloads.map((w) => w.spec.template.spec.containers[0].env.find((e: any) => e.name === 'APP_ROLES').value).sort();
    expect(roles).toEqual(['agent', 'api', 'scheduler', 'worker']);
    for (const w of workloads) {
      const c = w.spec.template.spec.containers[0];
      expect(c.livenessProbe.httpGet.path).toBe('/health/live');
      expect(c.readinessProbe.httpGet.path).toMatch(/^\/health\//);
      expect(w.spec.template.metadata.labels).toMatchObject(w.spec.selector.matchLabels);
    }
  });

  it('resolves every reference between objects', () => {
    const configMaps = named('ConfigMap');
    const secrets = named('Secret');
    const claims = named('PersistentVolumeClaim');
    for (const w of workloads) {
      const pod = w.spec.template.spec;
      for (const c of pod.containers) {
        for (const from of c.envFrom ?? []) {
          if (from.configMapRef) expect(configMaps.has(from.configMapRef.name)).toBe(true);
          if (from.secretRef) expect(secrets.has(from.secretRef.name)).toBe(true);
        }
        for (const e of c.env ?? []) {
          const ref = e.valueFrom?.secretKeyRef;
          if (ref) expect(Object.keys(secrets.get(ref.name)?.stringData ?? {})).toContain(ref.key);
        }
      }
      for (const v of pod.volumes ?? []) if (v.persistentVolumeClaim) expect(claims.has(v.persistentVolumeClaim.claimName)).toBe(true);
    }
    const deployments = named('Deployment');
    for (const hpa of named('HorizontalPodAutoscaler').values()) expect(deployments.has(hpa.spec.scaleTargetRef.name)).toBe(true);
    const podLabels = workloads.map((w) => w.spec.template.metadata.labels);
    const selects = (sel: Record<string, string>) => podLabels.some((l) => Object.entries(sel).every(([k, v]) => l[k] === v));
    for (const svc of named('Service').values()) expect(selects(svc.spec.selector)).toBe(true);
    for (const pdb of named('PodDisruptionBudget').values()) expect(selects(pdb.spec.selector.matchLabels)).toBe(true);
  });

  it('sets only knobs that Tetrad documents', () => {
    const knobs = documentedKnobs();
    const used = [
      ...objects.filter((o) => o.kind === 'ConfigMap' || o.kind === 'Secret').flatMap((o) => Object.keys(o.data ?? o.stringData ?? {})),
      ...workloads.flatMap((w) => w.spec.template.spec.containers.flatMap((c: any) => (c.env ?? []).map((e: any) => e.name))),
    ];
    expect(used.filter((k) => !knobs.has(k))).toEqual([]);
  });
});

describe('Compose files (docker/)', () => {
  for (const file of ['compose.yaml', 'compose.cluster.yaml']) {
    it(`${file}: dependencies exist and the app gets only documented knobs`, () => {
      const doc = parse(read('docker', file), { merge: true }) as { services: Record<string, any> };
      const services = doc.services;
      const knobs = documentedKnobs();
      for (const [name, svc] of Object.entries(services)) {
        const deps = Array.isArray(svc.depends_on) ? svc.depends_on : Object.keys(svc.depends_on ?? {});
        for (const d of deps) expect(`${name} → ${d}: ${d in services}`).toBe(`${name} → ${d}: true`);
        if (svc.build || svc.image === 'tetrad:latest') {
          expect(Object.keys(svc.environment).filter((k) => !knobs.has(k))).toEqual([]);
          expect(svc.environment.APP_PROFILE).toBe('full');
        }
      }
    });
  }

  it('compose.cluster.yaml: the proxy balances the api processes and the Redis Cluster has 6 nodes', () => {
    const services = (parse(read('docker/compose.cluster.yaml'), { merge: true }) as { services: Record<string, any> }).services;
    const upstreams = [...read('docker/nginx.cluster.conf').matchAll(/server (\S+):3000/g)].map((m) => m[1]);
    expect(upstreams.sort()).toEqual(Object.keys(services).filter((s) => services[s].environment?.APP_ROLES === 'api').sort());
    expect(Object.keys(services).filter((s) => /^redis-\d$/.test(s))).toHaveLength(6);
    expect(Object.keys(services).filter((s) => /^kafka-\d$/.test(s))).toHaveLength(3);
    const roles = new Set(Object.values(services).map((s: any) => s.environment?.APP_ROLES).filter(Boolean));
    expect([...roles].sort()).toEqual(['agent', 'api', 'scheduler', 'worker']);
  });
});

describe('Alerts and dashboards query metrics the app exports', () => {
  let app: TestApp;
  let exported: Set<string>;
  beforeAll(async () => {
    app = await startTestApp({ APP_PROFILE: 'full' });
    const text = await (await fetch(`${app.url}/metrics`)).text();
    exported = new Set([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => m[1]));
  });
  afterAll(() => app?.close());

  /** Metric names in a PromQL expression (the base name of histogram series). */
  const metricNames = (expr: string): string[] =>
    [...expr.replace(/\{[^}]*\}/g, '').replace(/"[^"]*"/g, '').matchAll(/\b([a-z_][a-z0-9_]*)\b/g)]
      .map((m) => m[1])
      .filter((n) => n.includes('_') && !/^(histogram_quantile|by|sum|max|rate|increase|changes)$/.test(n))
      .map((n) => n.replace(/_(bucket|count|sum)$/, ''));

  it('exports consumer lag per group, topic and partition once a consumer has handled a batch', async () => {
    // Board ids are global in the shared test database: one per run.
    const board = `lag-${app.config.NAMESPACE}`;
    expect((await http(app.url, 'POST', '/api/v1/leaderboards', { key: KEYS.admin, body: { id: board } })).status).toBe(201);
    expect((await http(app.url, 'PUT', `/api/v1/leaderboards/${board}/scores/p1`, { key: KEYS.service, body: { score: 5 } })).status).toBe(202);
    const line = /^kafka_consumer_lag\{group="[^"]+",topic="[^"]*leaderboard[^"]*",partition="\d+"\} (\d+)$/m;
    const text = await pollUntil(async () => (await fetch(`${app.url}/metrics`)).text(), (t) => line.test(t), 30_000, 200);
    expect(Number(line.exec(text)![1])).toBeGreaterThanOrEqual(0);
  });

  it('alert rules (deploy/prometheus/alerts.yaml)', () => {
    const groups = (parse(read('deploy/prometheus/alerts.yaml')) as { groups: { rules: { alert: string; expr: string }[] }[] }).groups;
    const names = groups.flatMap((g) => g.rules.flatMap((r) => metricNames(r.expr)));
    expect(names.length).toBeGreaterThan(10);
    expect([...new Set(names)].filter((n) => !exported.has(n))).toEqual([]);
  });

  it('Grafana dashboards (deploy/grafana/*.json): one per module and the platform', () => {
    const files = readdirSync(join(ROOT, 'deploy/grafana')).filter((f) => f.endsWith('.json'));
    expect(files.sort()).toEqual(['ad-analytics.json', 'gpu-scheduler.json', 'leaderboard.json', 'platform.json', 'ticketing.json']);
    const uids = new Set<string>();
    for (const f of files) {
      const board = JSON.parse(read('deploy/grafana', f)) as { uid: string; panels: { targets: { expr: string }[] }[] };
      uids.add(board.uid);
      const names = board.panels.flatMap((p) => p.targets.flatMap((t) => metricNames(t.expr)));
      expect(names.length).toBeGreaterThan(0);
      expect(`${f}: ${[...new Set(names)].filter((n) => !exported.has(n)).join(',')}`).toBe(`${f}: `);
    }
    expect(uids.size).toBe(files.length);
  });
});
