import { AdEvent, DEFAULT_STREAM_CONFIG } from './stream-processor';
import { parseDay } from './archive-layout';
import { ArchivedRecord, DailyReportBuilder } from './daily-report';
import { reconcile } from './reconciliation';
import { reportView } from './report-views';

const D0 = parseDay('2030-01-01')!;
const H = 3_600_000;
const M = 60_000;
const S = 1000;
const imp = (impressionId: string, adId: string, campaignId: string, ts: number): AdEvent => ({ type: 'impression', impressionId, adId, campaignId, ts });
const click = (impressionId: string, ts: number): AdEvent => ({ type: 'click', impressionId, adId: 'claimed', campaignId: 'claimed', ts });
const recs = (partition: number, events: AdEvent[]): ArchivedRecord[] => events.map((event, i) => ({ partition, offset: BigInt(i), event }));

describe('DailyReportBuilder', () => {
  it('hand-computed day: dedup, click-through join, clicks before impressions, unmatched, late, day edges', () => {
    const p0 = recs(0, [
      imp('i1', 'a1', 'c1', D0 + 10 * H), //                      hour 10
      click('i1', D0 + 10 * H + 30 * S), //                        joins: hour 10, a1
      imp('i1', 'a1', 'c1', D0 + 10 * H), //                      duplicate
      click('i2', D0 + 10 * H + 1 * M), //                         before its impression
      imp('i2', 'a2', 'c1', D0 + 10 * H + 50 * S), //             joins the click: hour 10, a2
      click('i3', D0 + 10 * H + 2 * M), //                         never has an impression: unmatched
      imp('i4', 'a1', 'c1', D0 - 30 * M), //                      previous day: not counted
      click('i4', D0 + 10 * M), //                                 joins (40 min <= TTL), but late for the stream
      imp('i5', 'a1', 'c1', D0 + 9 * H), //                       late for the stream (watermark at 10:02)
      imp('i6', 'a2', 'c2', D0 + 24 * H - 1 * S), //              last second of the day
      click('i6', D0 + 24 * H + 10 * S), //                        next day: not in this report
      imp('i7', 'a1', 'c1', D0 + 25 * H), //                      next day
    ]);
    const p1 = recs(1, [imp('j1', 'a3', 'c2', D0 + 5 * H), click('j1', D0 + 5 * H + 20 * S)]);
    const b = new DailyReportBuilder(D0, DEFAULT_STREAM_CONFIG);
    b.addPartition([...p0, p0[1]]); // a crash re-wrote offset 1: one record, not two
    b.addPartition(p1);
    const r = b.result();
    const cell = (hour: number, adId: string, campaignId: string, i: number, c: number, oi: number, oc: number) =>
      ({ hour, adId, campaignId, impressions: i, clicks: c, onTimeImpressions: oi, onTimeClicks: oc });
    expect(r.cells).toEqual([
      cell(0, 'a1', 'c1', 0, 1, 0, 0),
      cell(5, 'a3', 'c2', 1, 1, 1, 1),
      cell(9, 'a1', 'c1', 1, 0, 0, 0),
      cell(10, 'a1', 'c1', 1, 1, 1, 1),
      cell(10, 'a2', 'c1', 1, 1, 1, 1),
      cell(23, 'a2', 'c2', 1, 0, 1, 0),
    ]);
    expect(r).toMatchObject({ recordsRead: 15, duplicates: 1, unmatchedClicks: 1 });

    const view = reportView(r.cells);
    expect(view.totals).toMatchObject({ impressions: 5, clicks: 4, ctr: 4 / 5 });
    expect(view.campaigns.map((c) => [c.campaignId, c.impressions, c.clicks])).toEqual([['c1', 3, 3], ['c2', 2, 1]]);
    expect(view.ads.find((a) => a.adId === 'a1')!.hours).toEqual([
      { hour: 0, impressions: 0, clicks: 1, ctr: 0 },
      { hour: 9, impressions: 1, clicks: 0, ctr: 0 },
      { hour: 10, impressions: 1, clicks: 1, ctr: 1 },
    ]);

    // The stream held exactly the on-time counts: matches; the rest is explained as late.
    const realtime = [
      { adId: 'a1', campaignId: 'c1', impressions: 1, clicks: 1 },
      { adId: 'a2', campaignId: 'c1', impressions: 1, clicks: 1 },
      { adId: 'a2', campaignId: 'c2', impressions: 1, clicks: 0 },
      { adId: 'a3', campaignId: 'c2', impressions: 1, clicks: 1 },
    ];
    const rec = reconcile(r.cells, realtime);
    expect(rec.matches).toBe(true);
    expect(rec.totals).toMatchObject({ late: { impressions: 1, clicks: 1 }, diff: { impressions: 1, clicks: 1 }, unexplained: { impressions: 0, clicks: 0 } });
    // One click counted twice by the stream is not explained by lateness.
    const bad = reconcile(r.cells, realtime.map((x) => (x.adId === 'a3' ? { ...x, clicks: 2 } : x)));
    expect(bad.matches).toBe(false);
    expect(bad.ads.find((a) => a.adId === 'a3')).toMatchObject({ matches: false, unexplained: { impressions: 0, clicks: 1 } });
  });

  it('on random in-order streams (no late events) the exact counts equal the stream replay, cell by cell', () => {
    for (let seed = 1; seed <= 5; seed++) {
      let s = seed;
      const rnd = () => ((s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
      const events: AdEvent[] = [];
      let t = D0 - 2 * H;
      for (let i = 0; i < 4000; i++) {
        t += Math.floor(rnd() * 40 * S); // ~28 h of event time
        const id = `s${seed}-${i}`;
        const e = imp(id, `ad${Math.floor(rnd() * 7)}`, `camp${Math.floor(rnd() * 3)}`, t);
        events.push(e);
        if (rnd() < 0.05) events.push(e); // duplicate
        if (rnd() < 0.2) events.push(click(id, t + Math.floor(rnd() * 3 * S))); // reordered within out-of-orderness
        if (rnd() < 0.02) events.push(click(`ghost-${seed}-${i}`, t)); // unmatched
      }
      const b = new DailyReportBuilder(D0, DEFAULT_STREAM_CONFIG);
      b.addPartition(recs(0, events));
      const r = b.result();
      expect(r.cells.length).toBeGreaterThan(24);
      expect(r.unmatchedClicks).toBeGreaterThan(0);
      expect(r.duplicates).toBeGreaterThan(0);
      for (const c of r.cells) expect([c.onTimeImpressions, c.onTimeClicks]).toEqual([c.impressions, c.clicks]);
    }
  });
});
