import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { DataSource } from 'typeorm';
import { DailyReportScheduler } from '../../src/modules/ad-analytics/jobs/daily-report.cron';
import { http, KEYS, startTestApp, TestApp } from '../support/app';

// The offline path end to end: events go in through POST /track/events, the archiver writes them to
// files, the report is built on demand from the files, and GET /reports/daily reconciles it with what
// the real-time worker wrote. Windows are 1 minute; lateness and idle timeout are shrunk so the last
// windows close within seconds.
const H = 3_600_000;
const S = 1000;

interface Ev {
  type: 'impression' | 'click';
  impressionId: string;
  adId: string;
  campaignId: string;
  ts: number;
}

/**
 * A day's stream with its expected figures, written down as the generator decides them (not by running
 * the join): which impressions are unique, which clicks have an impression, which events are late.
 */
function scenario(tag: string, day: number) {
  const ads = [
    ['a1', 'cA'], ['a2', 'cA'], ['a3', 'cA'], ['a4', 'cA'], ['b1', 'cB'], ['b2', 'cB'],
  ].map(([a, c]) => ({ adId: `${tag}-${a}`, campaignId: `${tag}-${c}` }));
  const onTime: Ev[] = [];
  const expect = new Map<string, { impressions: number; clicks: number; lateImpressions: number; lateClicks: number; hours: Set<number> }>();
  const count = (adId: string, f: 'impressions' | 'clicks' | 'lateImpressions' | 'lateClicks', hour: number) => {
    let e = expect.get(adId);
    if (!e) expect.set(adId, (e = { impressions: 0, clicks: 0, lateImpressions: 0, lateClicks: 0, hours: new Set() }));
    e[f]++;
    e.hours.add(hour);
  };
  let duplicates = 0;
  let unmatched = 0;
  const N = 240;
  for (let i = 0; i < N; i++) {
    const ts = day + 10 * H + i * 15 * S; // 10:00:00 .. 10:59:45
    const ad = ads[i % ads.length];
    const imp: Ev = { type: 'impression', impressionId: `${tag}-i${i}`, ...ad, ts };
    if (i % 10 === 3) {
      onTime.push({ ...imp, type: 'click', ts: ts - 500 }); // the click arrives before its impression
      count(ad.adId, 'clicks', 10);
    }
    onTime.push(imp);
    count(ad.adId, 'impressions', 10);
    if (i % 7 === 0) { onTime.push({ ...imp }); duplicates++; }
    if (i % 4 === 0) {
      const c: Ev = { ...imp, type: 'click', ts: ts + 2 * S };
      onTime.push(c);
      count(ad.adId, 'clicks', 10);
      if (i % 8 === 0) { onTime.push({ ...c }); duplicates++; }
    }
    if (i % 11 === 5) { onTime.push({ type: 'click', impressionId: `${tag}-ghost${i}`, ...ad, ts }); unmatched++; }
  }
  // Close the last minute in every partition: many impressions at the end of 11:00 (on time).
  const closing: Ev[] = [];
  for (let i = 0; i < 60; i++) {
    const ad = ads[i % ads.length];
    closing.push({ type: 'impression', impressionId: `${tag}-z${i}`, ...ad, ts: day + 11 * H + 59_500 });
    count(ad.adId, 'impressions', 11);
  }
  // Hours late for the stream (its watermark is past 11:00): only the offline report counts them.
  const late: Ev[] = [];
  for (let i = 0; i < 12; i++) {
    const ad = ads[i % ads.length];
    const imp: Ev = { type: 'impression', impressionId: `${tag}-late${i}`, ...ad, ts: day + 2 * H + i * S };
    late.push(imp);
    count(ad.adId, 'lateImpressions', 2);
    if (i % 3 === 0) { late.push({ ...imp, type: 'click', ts: imp.ts + S }); count(ad.adId, 'lateClicks', 2); }
  }
  return { ads, batches: [onTime, closing, late], expect, duplicates, unmatched };
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

describe.each(['embedded', 'full'] as const)('ad-analytics offline report (%s)', (profile) => {
  let t: TestApp;
  let dir: string;
  const tag = `r${Math.random().toString(36).slice(2, 8)}`;
  // A day of its own (2040..2089) so nothing else in a shared database counts into it.
  const day = Date.UTC(2040 + Math.floor(Math.random() * 50), Math.floor(Math.random() * 12), 1 + Math.floor(Math.random() * 28));
  const date = new Date(day).toISOString().slice(0, 10);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tetrad-archive-'));
    t = await startTestApp({
      APP_PROFILE: profile,
      APP_MODULES: 'ad-analytics',
      ADS_ARCHIVE_DIR: dir,
      ADS_ARCHIVE_ROLL_MS: '200',
      ADS_OUT_OF_ORDERNESS_MS: '1000',
      ADS_ALLOWED_LATENESS_MS: '1000',
      ADS_IDLE_TIMEOUT_MS: '300',
      ADS_CHECKPOINT_INTERVAL_MS: '0',
      ADS_REPORT_CRON: 'off',
    });
  });
  afterAll(async () => {
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the report equals the real-time counts for on-time events, and late events are the explained difference', async () => {
    const s = scenario(tag, day);
    for (const events of s.batches) {
      const r = await http(t.url, 'POST', '/api/v1/track/events', { key: KEYS.service, body: { events } });
      expect(r.status).toBe(202);
    }
    const totalImps = sum([...s.expect.values()].map((e) => e.impressions + e.lateImpressions));
    const totalClicks = sum([...s.expect.values()].map((e) => e.clicks + e.lateClicks));
    const onTimeImps = sum([...s.expect.values()].map((e) => e.impressions));
    const onTimeClicks = sum([...s.expect.values()].map((e) => e.clicks));

    // The archiver and the stream run on their own; rebuild until both have caught up (bounded).
    let doc: any;
    const deadline = Date.now() + 40_000;
    for (;;) {
      const b = await http(t.url, 'POST', `/api/v1/reports/daily/build?date=${date}`, { key: KEYS.admin });
      expect(b.status).toBe(200);
      doc = (await http(t.url, 'GET', `/api/v1/reports/daily?date=${date}`, { key: KEYS.client })).body;
      const rt = doc.reconciliation.totals.realtime;
      if ((doc.totals.impressions === totalImps && rt.impressions === onTimeImps && rt.clicks === onTimeClicks) || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 500));
    }

    expect(doc.date).toBe(date);
    expect(doc.totals).toMatchObject({ impressions: totalImps, clicks: totalClicks, ctr: totalClicks / totalImps });
    expect(doc.run).toMatchObject({ duplicates: s.duplicates, unmatchedClicks: s.unmatched, recordsSkipped: 0 });
    expect(doc.totals.hours.map((h: any) => h.hour)).toEqual([2, 10, 11]);
    for (const ad of s.ads) {
      const e = s.expect.get(ad.adId)!;
      const row = doc.ads.find((a: any) => a.adId === ad.adId);
      expect(row).toMatchObject({ campaignId: ad.campaignId, impressions: e.impressions + e.lateImpressions, clicks: e.clicks + e.lateClicks });
      const rec = doc.reconciliation.ads.find((a: any) => a.adId === ad.adId);
      expect(rec).toMatchObject({
        matches: true,
        realtime: { impressions: e.impressions, clicks: e.clicks },
        onTime: { impressions: e.impressions, clicks: e.clicks },
        late: { impressions: e.lateImpressions, clicks: e.lateClicks },
        diff: { impressions: e.lateImpressions, clicks: e.lateClicks },
        unexplained: { impressions: 0, clicks: 0 },
      });
    }
    expect(doc.reconciliation.matches).toBe(true);
    expect(doc.reconciliation.totals.late).toEqual({ impressions: totalImps - onTimeImps, clicks: totalClicks - onTimeClicks });
    const campA = doc.campaigns.find((c: any) => c.campaignId === `${tag}-cA`);
    expect(campA.impressions).toBe(sum(s.ads.filter((a) => a.campaignId === `${tag}-cA`).map((a) => s.expect.get(a.adId)!.impressions + s.expect.get(a.adId)!.lateImpressions)));

    // One campaign only.
    const cB = (await http(t.url, 'GET', `/api/v1/reports/daily?date=${date}&campaignId=${tag}-cB`, { key: KEYS.client })).body;
    expect(cB.ads.map((a: any) => a.adId).sort()).toEqual([`${tag}-b1`, `${tag}-b2`]);
    expect(cB.reconciliation.matches).toBe(true);
    expect(cB.totals.impressions).toBe(sum([`${tag}-b1`, `${tag}-b2`].map((a) => s.expect.get(a)!.impressions + s.expect.get(a)!.lateImpressions)));

    // The archive: compressed JSON lines under date=/hour= folders, every produced record exactly once.
    const topicDir = readdirSync(dir).find((d) => d.startsWith('topic='))!;
    const hours = readdirSync(join(dir, topicDir, `date=${date}`)).sort();
    expect(hours).toEqual(['hour=02', 'hour=10', 'hour=11']);
    const offsets = new Set<string>();
    let lines = 0;
    for (const h of hours) {
      for (const f of readdirSync(join(dir, topicDir, `date=${date}`, h))) {
        expect(f).toMatch(/^part-\d+-\d{20}(-[a-z0-9]+)?\.jsonl\.gz$/); // embedded: plus the in-process log's id
        for (const line of gunzipSync(readFileSync(join(dir, topicDir, `date=${date}`, h, f))).toString().trim().split('\n')) {
          const r = JSON.parse(line);
          offsets.add(`${r.p}/${r.o}`);
          lines++;
        }
      }
    }
    // Every event of the scenario has its event time in hours 02, 10 or 11 of the day.
    const produced = sum(s.batches.map((b) => b.length));
    expect(offsets.size).toBe(produced);
    expect(lines).toBe(produced);
  });

  it('the cron tick builds yesterday once across instances, and a rebuild gives the same report', async () => {
    const before = (await http(t.url, 'GET', `/api/v1/reports/daily?date=${date}`, { key: KEYS.client })).body;
    const scheduler = t.app.get(DailyReportScheduler);
    const now = day + 24 * H + 90 * 60_000; // 01:30 the next day
    // Two scheduler instances ticking together: the per-day lock lets exactly one build.
    const ticks = await Promise.all([scheduler.tick(now), scheduler.tick(now)]);
    expect(ticks.filter((x) => x)).toHaveLength(1);
    const after = (await http(t.url, 'GET', `/api/v1/reports/daily?date=${date}`, { key: KEYS.client })).body;
    expect(Date.parse(after.run.builtAt)).toBeGreaterThanOrEqual(Date.parse(before.run.builtAt));
    expect({ ...after, run: undefined }).toEqual({ ...before, run: undefined });
  });

  it('a build whose real-time counts do not match is counted in /metrics (and logged), not only shown', async () => {
    const counter = async () => {
      const text = (await http(t.url, 'GET', '/metrics')).body as string;
      return Number(/^ads_report_reconciliation_mismatches_total (\d+)/m.exec(text)?.[1]);
    };
    const before = await counter();
    expect(before).toBeGreaterThanOrEqual(0); // registered (earlier builds may have run before the stream caught up)
    const db = t.app.get(DataSource);
    // One real-time row double-counted by hand: what a lost or repeated checkpoint would leave behind.
    const bump = (by: number) =>
      db.query(
        `UPDATE ad_minute_stats SET impressions = impressions + $1 WHERE (window_start, ad_id) IN
           (SELECT window_start, ad_id FROM ad_minute_stats WHERE ad_id = $2 AND window_start >= $3 ORDER BY window_start LIMIT 1)`,
        [by, `${tag}-a1`, day],
      );
    await bump(1);
    try {
      expect((await http(t.url, 'POST', `/api/v1/reports/daily/build?date=${date}`, { key: KEYS.admin })).status).toBe(200);
      expect(await counter()).toBe(before + 1);
      const doc = (await http(t.url, 'GET', `/api/v1/reports/daily?date=${date}`, { key: KEYS.client })).body;
      expect(doc.reconciliation.matches).toBe(false);
      expect(doc.reconciliation.totals.unexplained).toEqual({ impressions: 1, clicks: 0 });
    } finally {
      await bump(-1);
    }
    expect((await http(t.url, 'POST', `/api/v1/reports/daily/build?date=${date}`, { key: KEYS.admin })).status).toBe(200);
    expect(await counter()).toBe(before + 1);
  });

  it('answers problem+json for bad and missing dates', async () => {
    for (const q of ['', '?date=2026-13-01', '?date=2026-02-30', '?date=yesterday']) {
      const r = await http(t.url, 'GET', `/api/v1/reports/daily${q}`, { key: KEYS.client });
      expect(r.status).toBe(400);
      expect(r.headers.get('content-type')).toContain('application/problem+json');
    }
    const missing = await http(t.url, 'GET', '/api/v1/reports/daily?date=2001-01-01', { key: KEYS.client });
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe('report_not_found');
    const bad = await http(t.url, 'POST', '/api/v1/reports/daily/build?date=2026-02-30', { key: KEYS.admin });
    expect(bad.status).toBe(400);
    const forbidden = await http(t.url, 'POST', `/api/v1/reports/daily/build?date=${date}`, { key: KEYS.client });
    expect(forbidden.status).toBe(403);
  });
});
