/**
 * The web console at scale in headless Chromium (Debian's chromium, as the e2e suite drives it):
 * the GPU page with 1,000 nodes × 8 GPUs and the ads page with a 1,000-ad campaign, against the
 * real app (embedded profile). Baselines in the same run: the grid's first, full render against its
 * incremental updates, and the ads page with 10 ads against 1,000.
 *   npx ts-node --transpile-only bench/console/render.bench.ts [nodes=1000] [ads=1000] [updates=10]
 * "Smooth" is read from the browser's Long Tasks API: the longest main-thread task while live
 * updates arrive (a frame is 16.7 ms; 50 ms is where the browser calls a task long).
 */
import { randomUUID } from 'node:crypto';
import type { Page } from 'playwright-core';
import { http, KEYS, startTestApp, TestApp } from '../../test/support/app';
import { ensureChromium, ensureConsoleBuilt, launchChromium } from '../../test/support/browser';

declare const document: any, window: any, sessionStorage: any, PerformanceObserver: any;

const NODES = Number(process.argv[2] ?? 1000);
const ADS = Number(process.argv[3] ?? 1000);
const UPDATES = Number(process.argv[4] ?? 10);
const MINUTE = 60_000;
const TIMEOUT = 120_000;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const r1 = (x: number) => Math.round(x * 10) / 10;

async function pool<T>(items: T[], n: number, fn: (x: T) => Promise<unknown>) {
  let i = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (i < items.length) await fn(items[i++]);
  }));
}

async function ok(p: Promise<{ status: number; body: any }>) {
  const r = await p;
  if (r.status >= 300) throw new Error(`HTTP ${r.status}: ${JSON.stringify(r.body)}`);
  return r.body;
}

/** Long tasks since the last call (ms), from a PerformanceObserver installed before the app loads. */
const takeLongTasks = (page: Page): Promise<number[]> => page.evaluate(() => window.__long.splice(0));

async function gpuBench(t: TestApp, page: Page) {
  const ids = Array.from({ length: NODES }, (_, i) => `bench-node-${String(i).padStart(4, '0')}`);
  const t0 = Date.now();
  await pool(ids, 16, (id) => ok(http(t.url, 'POST', '/api/v1/gpu/nodes', { key: KEYS.service, body: { id, gpuType: 'A100', gpuCount: 8, gpuMemoryGb: 80 } })));
  console.log(`registered ${NODES} nodes in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

  const load0 = Date.now();
  await page.goto(`${t.url}/console/#/gpu`);
  await page.waitForSelector(`#gpu-grid[data-nodes="${NODES}"]`, { timeout: TIMEOUT });
  await page.waitForFunction(() => document.getElementById('gpu-grid')?.dataset.renderMs !== undefined, undefined, { timeout: TIMEOUT });
  const loadMs = Date.now() - load0;
  const firstRender = Number(await page.getAttribute('#gpu-grid', 'data-render-ms'));
  const cells = await page.$$eval('#gpu-grid [role=cell].gpu', (l) => l.length);
  await page.waitForTimeout(1500);
  await takeLongTasks(page);

  const renders: number[] = [];
  const visible: number[] = [];
  for (let i = 0; i < UPDATES; i++) {
    await page.evaluate(() => delete document.getElementById('gpu-grid').dataset.renderMs);
    const s = Date.now();
    const { taskId } = await ok(
      http(t.url, 'POST', '/api/v1/tasks', { key: KEYS.client, body: { userId: `u${i}`, tier: i % 2 ? 'vip' : 'normal', gpuType: 'A100', gpuCount: 2, gpuMemoryGb: 40 }, headers: { 'idempotency-key': randomUUID() } }),
    );
    await page.waitForFunction((id) => document.querySelectorAll(`#gpu-grid [role=cell][data-task="${id}"]`).length === 2, taskId, { timeout: TIMEOUT });
    visible.push(Date.now() - s);
    await page.waitForFunction(() => document.getElementById('gpu-grid')?.dataset.renderMs !== undefined, undefined, { timeout: TIMEOUT });
    renders.push(Number(await page.getAttribute('#gpu-grid', 'data-render-ms')));
  }
  const long = await takeLongTasks(page);
  return { cells, loadMs, firstRender, updateMedian: median(renders), updateMax: Math.max(...renders), visibleMedian: median(visible), longest: long.length ? Math.max(...long) : 0, longCount: long.length };
}

/** `minutesAgo`: where this run's event time starts; each run must start after the previous one's last window (the watermark only moves forward). */
async function adsBench(t: TestApp, page: Page, adCount: number, minutesAgo: number) {
  const campaignId = `bench-${adCount}-${randomUUID().slice(0, 6)}`;
  const ads = Array.from({ length: adCount }, (_, i) => ({ id: `${campaignId}-ad${i}`, creativeUrl: `https://cdn.example.com/${i}.png`, weight: 1 }));
  await ok(http(t.url, 'POST', '/api/v1/ads/campaigns', { key: KEYS.admin, body: { id: campaignId, name: campaignId, advertiserId: 'bench', ads } }));
  const now = Date.now();
  const m0 = now - (now % MINUTE) - minutesAgo * MINUTE;
  const minute = (m: number, per: number) =>
    ads.flatMap((ad, i) => Array.from({ length: per }, (_, k) => ({ type: 'impression', impressionId: randomUUID(), adId: ad.id, campaignId, ts: m0 + m * MINUTE + 1000 + ((i * per + k) % 50_000) })));
  const track = async (events: unknown[]) => {
    const batches: unknown[][] = [];
    for (let i = 0; i < events.length; i += 1000) batches.push(events.slice(i, i + 1000));
    // one at a time, in event-time order: the windows close on event time (no out-of-orderness allowed)
    await pool(batches, 1, (b) => ok(http(t.url, 'POST', '/api/v1/track/events', { key: KEYS.service, body: { events: b } })));
  };
  await track([...minute(0, 12), ...minute(1, 12)]);
  await track(minute(2, 1).slice(0, 1)); // closes minutes 0 and 1
  // wait for the pipeline, so the page load below measures the console, not the stream worker
  for (let i = 0; i < 600; i++) {
    const r = await http(t.url, 'GET', `/api/v1/stats/campaigns/${campaignId}/ads?from=${m0}`, { key: KEYS.client });
    if (r.body.ads?.length === adCount && r.body.ads.every((a: { impressions: number }) => a.impressions === 24)) break;
    await new Promise((res) => setTimeout(res, 200));
  }

  const load0 = Date.now();
  await page.goto('about:blank');
  await page.goto(`${t.url}/console/#/ads`);
  await page.waitForSelector('#campaign', { timeout: TIMEOUT });
  await page.waitForFunction((id) => [...document.querySelectorAll('#campaign option')].some((o: any) => o.value === id), campaignId, { timeout: TIMEOUT });
  await page.selectOption('#campaign', campaignId);
  await page.waitForSelector(`#ads-table[data-rows="${adCount}"]`, { timeout: TIMEOUT });
  await page.waitForFunction(() => Number(document.querySelector('.chart-box')?.getAttribute('data-points')) === 2, undefined, { timeout: TIMEOUT });
  const loadMs = Date.now() - load0;
  const firstRender = Number(await page.getAttribute('#ads-table', 'data-render-ms'));
  await page.waitForTimeout(1500);
  await takeLongTasks(page);

  const visible: number[] = [];
  const renders: number[] = [];
  for (let i = 0; i < 3; i++) {
    await page.evaluate(() => delete document.getElementById('ads-table').dataset.renderMs);
    await track(minute(2 + i, 12));
    const s = Date.now();
    await track(minute(3 + i, 1).slice(0, 1)); // closes minute 2 + i
    await page.waitForFunction((n) => Number(document.querySelector('.chart-box')?.getAttribute('data-points')) === n, 3 + i, { timeout: TIMEOUT });
    visible.push(Date.now() - s);
    // the table and totals refresh a second after the window
    await page.waitForFunction(() => document.getElementById('ads-table')?.dataset.renderMs !== undefined, undefined, { timeout: TIMEOUT });
    renders.push(Number(await page.getAttribute('#ads-table', 'data-render-ms')));
    await page.waitForTimeout(1500);
  }
  const long = await takeLongTasks(page);
  return { adCount, loadMs, firstRender, renderMedian: median(renders), visibleMedian: median(visible), longest: long.length ? Math.max(...long) : 0, longCount: long.length };
}

async function main() {
  ensureChromium();
  ensureConsoleBuilt();
  const t = await startTestApp({
    APP_MODULES: 'gpu-scheduler,ad-analytics',
    RATE_LIMIT_PER_SECOND: '0',
    GPU_CYCLE_INTERVAL_MS: '200',
    GPU_ACK_TIMEOUT_MS: '600000', // no agents: placed tasks keep their GPUs for the run
    GPU_HEARTBEAT_TIMEOUT_MS: '600000',
    KAFKA_PARTITIONS: '1',
    ADS_OUT_OF_ORDERNESS_MS: '0',
    ADS_ALLOWED_LATENESS_MS: '0',
    ADS_CHECKPOINT_INTERVAL_MS: '0',
    ADS_IDLE_TIMEOUT_MS: '3600000',
  });
  const browser = await launchChromium();
  try {
    const page = await browser.context.newPage();
    await page.addInitScript(() => {
      window.__long = [];
      new PerformanceObserver((l: any) => window.__long.push(...l.getEntries().map((e: any) => e.duration))).observe({ type: 'longtask', buffered: true });
    });
    await page.goto(`${t.url}/console/`);
    await page.evaluate((k) => sessionStorage.setItem('tetrad.apiKey', k), KEYS.client);

    const small = await adsBench(t, page, 10, 20);
    const big = await adsBench(t, page, ADS, 12);
    for (const a of [small, big]) {
      console.log(
        `ads page, ${a.adCount} ads${a === small ? ' (baseline)' : ''}: load→table+chart ${a.loadMs} ms${a === big ? ` (${(big.loadMs / small.loadMs).toFixed(2)}× baseline)` : ''}; ` +
          `table first render ${r1(a.firstRender)} ms, re-render on a closed window median ${r1(a.renderMedian)} ms; window close→chart point median ${a.visibleMedian} ms; ` +
          `longest task during 3 live updates ${r1(a.longest)} ms (${a.longCount} over 50 ms)`,
      );
    }

    const g = await gpuBench(t, page);
    console.log(`gpu page, ${NODES} nodes × 8 (${g.cells} cells): load→grid ${g.loadMs} ms; first full render ${r1(g.firstRender)} ms (baseline); update render median ${r1(g.updateMedian)} ms, max ${r1(g.updateMax)} ms (${(g.updateMedian / g.firstRender).toFixed(3)}× the full render); submit→on grid median ${g.visibleMedian} ms; longest task during ${UPDATES} updates ${r1(g.longest)} ms (${g.longCount} over 50 ms)`);
  } finally {
    await browser.close();
    await t.close();
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
