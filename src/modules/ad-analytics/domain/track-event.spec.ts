import { decodeEvent, encodeEvent, parseTrackBatch } from './track-event';
import { parseTime, toStatsView } from './minute-stats';

const ok = { type: 'click', impressionId: 'imp-1', adId: 'ad.1', campaignId: 'c:1', ts: 1_764_000_000_000 };

describe('parseTrackBatch', () => {
  it('accepts { events } or a bare array and keeps only the event fields', () => {
    expect(parseTrackBatch({ events: [ok] })).toEqual({ ok: true, events: [ok] });
    expect(parseTrackBatch([ok, { ...ok, type: 'impression' }])).toMatchObject({ ok: true, events: [{ type: 'click' }, { type: 'impression' }] });
  });
  it.each([
    [{ ...ok, type: 'view' }, 'type'],
    [{ ...ok, impressionId: 'x'.repeat(129) }, 'impressionId'],
    [{ ...ok, adId: 'has space' }, 'adId'],
    [{ ...ok, campaignId: undefined }, 'campaignId'],
    [{ ...ok, ts: 1.5e12 + 0.5 }, 'ts'],
    [{ ...ok, ts: 1_764_000_000 }, 'ts'],
    [{ ...ok, ts: '1764000000000' }, 'ts'],
    [{ ...ok, note: 'x' }, 'note'],
  ])('names the bad field of the first bad event: %j', (bad, field) => {
    expect(parseTrackBatch({ events: [ok, ok, bad, { ...bad, type: 'nope' }] })).toEqual({
      ok: false,
      problem: { index: 2, field, message: expect.any(String) },
    });
  });
  it('bounds the batch to 1..1000 events', () => {
    expect(parseTrackBatch({ events: [] })).toMatchObject({ ok: false, problem: { index: -1 } });
    expect(parseTrackBatch({ events: new Array(1001).fill(ok) })).toMatchObject({ ok: false, problem: { index: -1 } });
    expect(parseTrackBatch({ events: new Array(1000).fill(ok) })).toMatchObject({ ok: true });
    expect(parseTrackBatch('x')).toMatchObject({ ok: false });
  });
});

describe('encodeEvent / decodeEvent', () => {
  it('round-trips and refuses what is not an event', () => {
    expect(decodeEvent(encodeEvent(ok as never))).toEqual(ok);
    for (const v of ['{', 'null', '[]', JSON.stringify({ ...ok, type: 'x' }), JSON.stringify({ ...ok, ts: 'now' })]) {
      expect(decodeEvent(v)).toBeNull();
    }
  });
});

describe('stats view', () => {
  it('sorts windows, sums totals and leaves CTR null without impressions', () => {
    const t = Date.UTC(2026, 0, 1);
    expect(
      toStatsView([
        { windowStart: t + 60_000, impressions: 0, clicks: 2 },
        { windowStart: t, impressions: 4, clicks: 1 },
      ]),
    ).toEqual({
      buckets: [
        { minute: '2026-01-01T00:00:00.000Z', impressions: 4, clicks: 1, ctr: 0.25 },
        { minute: '2026-01-01T00:01:00.000Z', impressions: 0, clicks: 2, ctr: null },
      ],
      totals: { impressions: 4, clicks: 3, ctr: 0.75 },
    });
    expect(toStatsView([])).toEqual({ buckets: [], totals: { impressions: 0, clicks: 0, ctr: null } });
  });
  it('parses epoch ms and ISO 8601 times, nothing else', () => {
    expect(parseTime('1764000000000')).toBe(1_764_000_000_000);
    expect(parseTime('2026-01-01T00:00:00Z')).toBe(Date.UTC(2026, 0, 1));
    for (const bad of ['yesterday', '2026-01-01', '-5', '2026-13-40T00:00:00Z']) expect(parseTime(bad)).toBeNull();
  });
});
