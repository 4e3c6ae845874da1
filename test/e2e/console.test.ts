import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import type { BrowserContext, Page } from 'playwright-core';
import { ScriptedAgent } from '../support/gpu-scripted-agent';
import { JobQueue } from '../../src/platform/queue/job-queue.port';
import { http, KEYS, startTestApp, TestApp } from '../support/app';
import { ensureChromium, ensureConsoleBuilt, launchChromium } from '../support/browser';

/**
 * The web console in headless Chromium against the real app (embedded profile, all four modules):
 * sign in, each page's live behaviour (an ads window closing, a hold, a GPU task placed and
 * cancelled), keyboard use, labels, a phone-sized viewport, and the first-load JS budget.
 * UPDATE_SCREENSHOTS=1 writes the screenshots to docs/console/ (as committed); otherwise to a temp dir.
 */
// The callbacks given to page.evaluate/waitForFunction run in the browser; these names exist there.
// Declared here (module scope) rather than adding the DOM lib to the whole Node program.
declare const document: any, window: any, sessionStorage: any;
type HTMLInputElement = any;

const ROOT = resolve(__dirname, '../..');
const SHOTS = process.env.UPDATE_SCREENSHOTS === '1' ? join(ROOT, 'docs/console') : mkdtempSync(join(tmpdir(), 'tetrad-shots-'));
const MINUTE = 60_000;
/** The strictest policy the console is built for: nothing inline, nothing from another origin. */
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
const UI_TIMEOUT = 30_000;

describe('web console (headless Chromium)', () => {
  let t: TestApp;
  let browser: { context: BrowserContext; close(): Promise<void> };
  let page: Page;
  let agent: ScriptedAgent;
  const run = randomBytes(3).toString('hex');
  const pageErrors: string[] = [];
  const admin = (method: string, path: string, body?: unknown, headers?: Record<string, string>) => http(t.url, method, path, { key: KEYS.admin, body, headers });
  const ok = async (p: Promise<{ status: number; body: any }>, status = [200, 201, 202]) => {
    const r = await p;
    if (!status.includes(r.status)) throw new Error(`HTTP ${r.status}: ${JSON.stringify(r.body)}`);
    return r.body;
  };
  const shot = async (name: string) => {
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: false });
  };
  /** A fresh page load (a hash-only change would keep the page and its loaded lists). */
  const go = async (hash: string) => {
    await page.goto('about:blank');
    await page.goto(`${t.url}/console/#/${hash}`);
    await page.waitForSelector('main h1', { timeout: UI_TIMEOUT });
  };

  beforeAll(async () => {
    ensureChromium();
    ensureConsoleBuilt();
    mkdirSync(SHOTS, { recursive: true });
    t = await startTestApp({
      RATE_LIMIT_PER_SECOND: '0',
      // ads: one partition and event-time windows, so sending a later event closes a window at once
      KAFKA_PARTITIONS: '1',
      ADS_WINDOW_MS: '60000',
      ADS_OUT_OF_ORDERNESS_MS: '0',
      ADS_ALLOWED_LATENESS_MS: '0',
      ADS_JOIN_TTL_MS: '180000',
      ADS_CHECKPOINT_INTERVAL_MS: '0',
      ADS_IDLE_TIMEOUT_MS: '3600000', // an idle partition must not close the open window by wall clock mid-test
      GPU_CYCLE_INTERVAL_MS: '200',
      GPU_ACK_TIMEOUT_MS: '10000',
      GPU_HEARTBEAT_TIMEOUT_MS: '10000',
    });
    agent = new ScriptedAgent(t.app.get(JobQueue), {
      report: async (taskId, body) => void (await ok(http(t.url, 'POST', `/api/v1/gpu/tasks/${taskId}/report`, { key: KEYS.service, body }))),
      heartbeat: async (nodeId, body) => void (await http(t.url, 'POST', `/api/v1/gpu/nodes/${nodeId}/heartbeat`, { key: KEYS.service, body })),
    });
    browser = await launchChromium();
    page = await browser.context.newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
    // Every console page is served under CSP (whatever the server sends): a violation is a console error.
    page.on('console', (m) => m.type() === 'error' && !/Failed to load resource/.test(m.text()) && pageErrors.push(m.text()));
    await browser.context.route(/\/console\//, async (route) => {
      const res = await route.fetch();
      await route.fulfill({ response: res, headers: { ...res.headers(), 'content-security-policy': CSP } });
    });
  }, 480_000); // room for apt-get install chromium (bounded at 300 s) on a clean machine

  afterAll(async () => {
    await browser?.close();
    await agent?.close();
    await t?.close();
  }, 60_000);

  it('serves the console at /console (/ redirects), within the first-load JS budget', async () => {
    const root = await fetch(`${t.url}/`, { redirect: 'manual' });
    expect([root.status, root.headers.get('location')]).toEqual([302, '/console/']);
    const html = await (await fetch(`${t.url}/console/`)).text();
    expect(html).toContain('<script type="module" src="assets/app-');
    expect(html).not.toMatch(/<script>|<style>| style=/); // nothing inline: a same-origin CSP serves it
    const info = JSON.parse(readFileSync(join(ROOT, 'dist/console/build-info.json'), 'utf8'));
    expect(info.gzipJsBytes).toBeLessThanOrEqual(200 * 1024);
    expect(info.gzipJsBytes).toBeGreaterThan(1000);
  });

  it('signs in with an API key kept in session storage; a bad key is refused', async () => {
    await page.goto(`${t.url}/`);
    await page.waitForSelector('#api-key', { timeout: UI_TIMEOUT });
    expect(page.url()).toBe(`${t.url}/console/`);
    await page.fill('#api-key', 'not-a-key');
    await page.click('button[type=submit]');
    await page.waitForSelector('[role=alert]', { timeout: UI_TIMEOUT });
    expect(await page.textContent('[role=alert]')).toContain('api_key_invalid');
    await page.fill('#api-key', KEYS.client);
    await page.click('button[type=submit]');
    await page.waitForSelector('nav[aria-label=Pages]', { timeout: UI_TIMEOUT });
    expect(await page.evaluate(() => sessionStorage.getItem('tetrad.apiKey'))).toBe(KEYS.client);
    expect(await page.textContent('.role')).toBe('client');
  });

  it('ads: the per-minute chart gains a point when a window closes; per-ad table and freshness', async () => {
    const campaignId = `console-${run}`;
    const ads = Array.from({ length: 8 }, (_, i) => ({ id: `${campaignId}-ad${i + 1}`, creativeUrl: `https://cdn.example.com/${i}.png`, weight: 1 }));
    await ok(admin('POST', '/api/v1/ads/campaigns', { id: campaignId, name: `Console demo ${run}`, advertiserId: 'adv-console', ads }));
    const now = Date.now();
    const minute0 = now - (now % MINUTE) - 8 * MINUTE;
    const events = (m: number, perAd: (i: number) => number) =>
      ads.flatMap((ad, i) =>
        Array.from({ length: perAd(i) }, (_, k) => {
          const impressionId = randomUUID();
          const ts = minute0 + m * MINUTE + 1000 + k;
          const imp = { type: 'impression', impressionId, adId: ad.id, campaignId, ts };
          return k % 7 === 0 ? [imp, { ...imp, type: 'click', ts: ts + 500 }] : [imp];
        }).flat(),
      );
    const track = async (list: unknown[]) => {
      for (let i = 0; i < list.length; i += 1000) await ok(http(t.url, 'POST', '/api/v1/track/events', { key: KEYS.service, body: { events: list.slice(i, i + 1000) } }));
    };
    // minutes 0..4 closed (minute 5's first event moves the watermark past them); minute 5 stays open
    for (let m = 0; m <= 4; m++) await track(events(m, (i) => (i === 7 ? 1 : 20 + 5 * i + 3 * m)));
    await track(events(5, () => 1).slice(0, 1));

    await go('ads');
    await page.selectOption('#campaign', campaignId);
    const points = () => page.getAttribute('.chart-box', 'data-points').then(Number);
    await page
      .waitForFunction(() => Number(document.querySelector('.chart-box')?.getAttribute('data-points')) === 5, undefined, { timeout: UI_TIMEOUT })
      .catch(async (e) => {
        throw new Error(`${e.message}; chart: ${await page.getAttribute('.chart-box', 'data-points')} points; ${await page.textContent('main')}`);
      });
    await page.waitForSelector('#ads-table[data-rows="7"]', { timeout: UI_TIMEOUT }); // ad8 (5 impressions today) is under the threshold
    expect(await page.textContent('#ads-hidden')).toContain('1 ad under 10 impressions hidden');

    // a window closes while the page watches: minute 5 fills, minute 6's first event closes it
    await track(events(5, (i) => 10 + i));
    await track(events(6, () => 1).slice(0, 1));
    await page.waitForFunction(() => Number(document.querySelector('.chart-box')?.getAttribute('data-points')) === 6, undefined, { timeout: UI_TIMEOUT });
    expect(await points()).toBe(6);
    expect(await page.getAttribute('[data-freshness]', 'data-freshness')).toMatch(/fresh|late|stale/);
    expect(await page.textContent('.badge-live')).toContain('live');
    await shot('ads');
  });

  it('ticketing: a hold changes the live availability and turns its seats held on the map', async () => {
    const ev = await ok(
      admin('POST', '/api/v1/events', {
        name: `Console concert ${run}`,
        startsAt: new Date(Date.now() + 86_400_000).toISOString(),
        sections: [
          { name: 'A', rows: 4, seatsPerRow: 12, price: 80 },
          { name: 'B', rows: 3, seatsPerRow: 10, price: 45 },
        ],
      }),
    );
    const sold = await ok(admin('POST', `/api/v1/events/${ev.id}/holds`, { userId: 'fan-1', seatIds: ['B-1-4', 'B-1-5'] }, { 'idempotency-key': randomUUID() }));
    await ok(admin('POST', `/api/v1/holds/${sold.holdId}/checkout`, { paymentMethod: 'card' }, { 'idempotency-key': randomUUID() }));

    await page.evaluate((k) => sessionStorage.setItem('tetrad.apiKey', k), KEYS.service);
    await go('ticketing');
    await page.selectOption('#event', ev.id);
    const held = (section: string) => page.textContent(`tr[data-section="${section}"] [data-field=held]`);
    await page.waitForSelector('tr[data-section="A"]', { timeout: UI_TIMEOUT });
    expect(await held('A')).toBe('0');
    expect(await page.getAttribute('[data-seat="A-2-3"]', 'data-status')).toBe('AVAILABLE');

    await ok(admin('POST', `/api/v1/events/${ev.id}/holds`, { userId: 'fan-2', seatIds: ['A-2-3', 'A-2-4', 'A-2-5'] }, { 'idempotency-key': randomUUID() }));
    await page.waitForFunction(() => document.querySelector('tr[data-section="A"] [data-field=held]')?.textContent === '3', undefined, { timeout: UI_TIMEOUT });
    await page.waitForSelector('[data-seat="A-2-3"][data-status="HELD"]', { timeout: UI_TIMEOUT });
    expect(await page.getAttribute('[data-seat="A-2-3"]', 'aria-label')).toBe('A-2-3 held');
    // the service key sees the orders panel (a client key does not: checked on the GPU page's run below)
    await page.waitForSelector('#h-orders', { timeout: UI_TIMEOUT });
    await shot('ticketing');
    await page.evaluate((k) => sessionStorage.setItem('tetrad.apiKey', k), KEYS.client);
    await go('ticketing');
    await page.selectOption('#event', ev.id);
    await page.waitForSelector('tr[data-section="A"]', { timeout: UI_TIMEOUT });
    expect(await page.$('#h-orders')).toBeNull();
  });

  it('leaderboards: top-K and a player search with the player highlighted', async () => {
    const boardId = `console-${run}`;
    await ok(admin('POST', '/api/v1/leaderboards', { id: boardId }));
    const entries = Array.from({ length: 40 }, (_, i) => ({ playerId: `player-${String(i + 1).padStart(2, '0')}`, score: 1000 + ((i * 37) % 41) * 25 }));
    await ok(http(t.url, 'POST', `/api/v1/leaderboards/${boardId}/scores:batch`, { key: KEYS.service, body: { entries } }));
    await go('leaderboards');
    await page.selectOption('#board', boardId);
    await page.waitForFunction(() => document.querySelectorAll('table tbody tr').length === 10, undefined, { timeout: UI_TIMEOUT });
    await page.fill('#player', 'player-17');
    await page.press('#player', 'Enter');
    await page.waitForSelector('tr.highlight, [role=alert]', { timeout: UI_TIMEOUT });
    expect(await page.$$eval('[role=alert]', (l) => l.map((e) => e.textContent))).toEqual([]);
    expect(await page.textContent('tr.highlight th')).toBe('player-17');
    await shot('leaderboards');
  });

  it('gpu cluster: a submitted task appears on the grid and leaves it when cancelled', async () => {
    for (let i = 1; i <= 6; i++) {
      const id = `node-${run}-${i}`;
      await ok(http(t.url, 'POST', '/api/v1/gpu/nodes', { key: KEYS.service, body: { id, gpuType: i <= 4 ? 'A100' : 'H100', gpuCount: 8, gpuMemoryGb: 80 } }));
      agent.attach(id);
    }
    await ok(http(t.url, 'PATCH', `/api/v1/gpu/nodes/node-${run}-6`, { key: KEYS.service, body: { status: 'DRAINING' } }));
    const other = await ok(
      http(t.url, 'POST', '/api/v1/tasks', { key: KEYS.client, body: { userId: 'team-a', tier: 'vip', gpuType: 'A100', gpuCount: 4, gpuMemoryGb: 40 }, headers: { 'idempotency-key': randomUUID() } }),
    );
    await go('gpu');
    await page.waitForSelector(`#gpu-grid [role=cell][data-task="${other.taskId}"]`, { timeout: UI_TIMEOUT });

    await page.selectOption('#t-type', 'A100');
    await page.fill('#t-count', '2');
    await page.click('form.form button[type=submit]');
    await page.waitForFunction(() => /queued /.test(document.getElementById('submit-note')?.textContent ?? ''), undefined, { timeout: UI_TIMEOUT });
    const taskId = (await page.textContent('#submit-note'))!.replace('queued ', '').trim();
    await page.waitForFunction((id) => document.querySelectorAll(`#gpu-grid [role=cell][data-task="${id}"]`).length === 2, taskId, { timeout: UI_TIMEOUT });
    await page.waitForSelector(`#recent-tasks tr[data-task="${taskId}"][data-status="RUNNING"]`, { timeout: UI_TIMEOUT });
    await shot('gpu');

    await page.click(`button[aria-label="cancel task ${taskId}"]`);
    await page.waitForFunction((id) => document.querySelectorAll(`#gpu-grid [role=cell][data-task="${id}"]`).length === 0, taskId, { timeout: UI_TIMEOUT });
    await page.waitForSelector(`#recent-tasks tr[data-task="${taskId}"][data-status="CANCELLED"]`, { timeout: UI_TIMEOUT });
    expect(await page.$$eval(`#gpu-grid [role=cell][data-task="${other.taskId}"]`, (l) => l.length)).toBe(4);
  });

  it('is usable by keyboard, labels every control, and fits a phone screen', async () => {
    await go('gpu');
    // every form control has a label a screen reader announces
    const unlabelled = await page.$$eval('input, select, button', (els) =>
      els.filter((e) => !(e as HTMLInputElement).labels?.length && !e.getAttribute('aria-label') && !(e.textContent ?? '').trim()).map((e) => e.outerHTML),
    );
    expect(unlabelled).toEqual([]);
    // From the first navigation link, Tab walks the navigation; Enter follows a link. (Counting
    // Shift+Tabs back from wherever focus was depends on how many rows with buttons the page has.)
    await page.focus('nav a');
    let focused = await page.evaluate(() => document.activeElement?.textContent?.trim() ?? '');
    for (let i = 0; i < 12 && focused !== 'Ticketing'; i++) {
      await page.keyboard.press('Tab');
      focused = await page.evaluate(() => document.activeElement?.textContent?.trim() ?? '');
    }
    expect(focused).toBe('Ticketing');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.querySelector('main h1')?.textContent === 'Ticketing', undefined, { timeout: UI_TIMEOUT });
    expect(await page.getAttribute('nav a[aria-current=page]', 'href')).toBe('#/ticketing');

    await page.setViewportSize({ width: 390, height: 844 });
    for (const p of ['ads', 'ticketing', 'leaderboards', 'gpu']) {
      await go(p);
      await page.waitForTimeout(300);
      // the page itself does not scroll sideways (wide tables scroll inside their own box)
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      expect({ page: p, width }).toEqual({ page: p, width: 390 });
    }
    await go('ads');
    await page.waitForSelector('.chart-box canvas', { timeout: UI_TIMEOUT });
    await shot('phone-ads');
    await page.setViewportSize({ width: 1280, height: 860 });
    expect(pageErrors).toEqual([]);
  });
});
