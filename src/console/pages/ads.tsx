import { Component } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { follow, get, Role, StreamState } from '../api';
import { MinuteChart, MinutePoint } from '../chart';
import { ColumnHeads, ErrorNote, fmt, LiveBadge, Section, Stat, useLoad, useNow } from '../ui';

interface Campaign {
  id: string;
  name: string;
  active: boolean;
  ads: number;
}
interface StatsView {
  buckets: { minute: string; impressions: number; clicks: number }[];
  totals: { impressions: number; clicks: number; ctr: number | null };
}
interface AdRow {
  adId: string;
  impressions: number;
  clicks: number;
  ctr: number | null;
}
interface MinuteUpdate {
  minute: string;
  windowEnd: string;
  ads: { adId: string; campaignId: string; impressions: number; clicks: number }[];
}

const WINDOWS = 60;
const MINUTE = 60_000;
const DAY = 86_400_000;
/** Rows under this many impressions are hidden (too few to read a CTR from), as ad dashboards do. */
const SMALL_COUNT = 10;
/**
 * Rows per page of the per-ad table: a 1,000-row table re-laid out on every closed window cost
 * main-thread tasks of up to 275 ms on this box (bench/console); 100 rows stay well inside a frame's worth.
 */
const PAGE_ROWS = 100;

const startOfUtcDay = (ms: number) => ms - (ms % DAY);

export function AdsPage(_: { role: Role }) {
  const campaigns = useLoad(() => get<{ campaigns: Campaign[] }>('/ads/campaigns', { limit: 500 }), []);
  const [campaignId, setCampaignId] = useState<string>();
  const list = campaigns.value?.campaigns ?? [];
  useEffect(() => {
    if (!campaignId && list.length > 0) setCampaignId(list[0].id);
  }, [list.length]);

  return (
    <>
      <div class="toolbar">
        <label for="campaign">Campaign</label>
        <select id="campaign" value={campaignId ?? ''} onChange={(e) => setCampaignId((e.target as HTMLSelectElement).value)}>
          {list.length === 0 ? <option value="">no campaigns yet</option> : null}
          {list.map((c) => (
            <option key={c.id} value={c.id}>
              {c.name} ({c.id}){c.active ? '' : ' – paused'}
            </option>
          ))}
        </select>
      </div>
      <ErrorNote error={campaigns.error} />
      {campaignId ? <CampaignDashboard key={campaignId} campaignId={campaignId} /> : null}
    </>
  );
}

function CampaignDashboard({ campaignId }: { campaignId: string }) {
  const [points, setPoints] = useState<MinutePoint[]>([]);
  const [state, setState] = useState<StreamState>('connecting');
  const [newest, setNewest] = useState<string | null>(null);
  const [tick, setTick] = useState(0);

  // Today so far vs the same part of yesterday; refreshed whenever a window closes.
  const today = useLoad(async () => {
    const t = Date.now();
    const day = startOfUtcDay(t);
    const [a, b] = await Promise.all([
      get<StatsView>(`/stats/campaigns/${encodeURIComponent(campaignId)}`, { from: day, to: t }),
      get<StatsView>(`/stats/campaigns/${encodeURIComponent(campaignId)}`, { from: day - DAY, to: t - DAY }),
    ]);
    return { today: a.totals, yesterday: b.totals };
  }, [campaignId, tick]);
  const ads = useLoad(
    () => get<{ newestWindowEnd: string | null; ads: AdRow[] }>(`/stats/campaigns/${encodeURIComponent(campaignId)}/ads`, { from: startOfUtcDay(Date.now()) }),
    [campaignId, tick],
  );
  useEffect(() => {
    if (ads.value?.newestWindowEnd) setNewest((n) => (n && n > ads.value!.newestWindowEnd! ? n : ads.value!.newestWindowEnd));
  }, [ads.value]);

  // The live stream first, then the last 60 closed windows (again after each reconnect), merged:
  // a window closed between the two reads is in one of them either way.
  useEffect(() => {
    let pending: number | undefined;
    const history = () => {
      const t = Date.now();
      get<StatsView>(`/stats/campaigns/${encodeURIComponent(campaignId)}`, { from: t - WINDOWS * MINUTE, to: t }).then(
        (v) => setPoints((old) => v.buckets.reduce((acc, b) => upsert(acc, { t: Date.parse(b.minute) / 1000, impressions: b.impressions, clicks: b.clicks }), old)),
        () => undefined,
      );
    };
    const stop = follow(
      '/stats/stream',
      {
        minute: (u: MinuteUpdate) => {
          setNewest((n) => (n && n > u.windowEnd ? n : u.windowEnd));
          const mine = u.ads.filter((a) => a.campaignId === campaignId);
          if (mine.length === 0) return;
          const p: MinutePoint = { t: Date.parse(u.minute) / 1000, impressions: 0, clicks: 0 };
          for (const a of mine) {
            p.impressions += a.impressions;
            p.clicks += a.clicks;
          }
          setPoints((old) => upsert(old, p));
          // Coalesce bursts of closed windows into one refresh of the totals and the table.
          if (pending === undefined) pending = window.setTimeout(() => ((pending = undefined), setTick((x) => x + 1)), 1000);
        },
      },
      (s) => {
        setState(s);
        if (s === 'live') history();
      },
    );
    return () => {
      stop();
      if (pending !== undefined) clearTimeout(pending);
    };
  }, [campaignId]);

  const t = today.value;
  return (
    <>
      <div class="row">
        <LiveBadge state={state} />
        <Freshness newest={newest} />
      </div>
      <Section title="Today (UTC) vs the same time yesterday">
        <ErrorNote error={today.error} />
        <div class="stats">
          <Stat label="Impressions" value={fmt.int(t?.today.impressions)} note={<Change now={t?.today.impressions} before={t?.yesterday.impressions} />} />
          <Stat label="Clicks" value={fmt.int(t?.today.clicks)} note={<Change now={t?.today.clicks} before={t?.yesterday.clicks} />} />
          <Stat label="CTR" value={fmt.pct(t?.today.ctr)} note={<Change now={t?.today.ctr ?? undefined} before={t?.yesterday.ctr ?? undefined} />} />
        </div>
      </Section>
      <Section title="Per minute, last 60 closed windows">
        <MinuteChart points={points} label="impressions and clicks per minute" />
      </Section>
      <AdTable rows={ads.value?.ads ?? []} error={ads.error} />
      <DailyReport campaignId={campaignId} />
    </>
  );
}

/** Puts a window's counts in place; counts only grow (later partitions add to a window), so the larger wins. */
/** The age of the newest closed window; ticks every second on its own (the rest of the page does not re-render). */
function Freshness({ newest }: { newest: string | null }) {
  const now = useNow();
  const age = newest ? Math.max(0, (now - Date.parse(newest)) / 1000) : null;
  const freshness = age === null ? 'unknown' : age < 120 ? 'fresh' : age < 600 ? 'late' : 'stale';
  return (
    <span class={`badge badge-${freshness}`} data-freshness={freshness} title="age of the newest closed one-minute window">
      newest window: {age === null ? 'none yet' : `${fmt.secs(age)} ago`}
    </span>
  );
}

function upsert(old: MinutePoint[], p: MinutePoint): MinutePoint[] {
  const i = old.findIndex((x) => x.t === p.t);
  if (i >= 0 && old[i].impressions >= p.impressions && old[i].clicks >= p.clicks) return old;
  const next = i >= 0 ? old.map((x, j) => (j === i ? p : x)) : [...old, p].sort((a, b) => a.t - b.t);
  return next.slice(-WINDOWS);
}

function Change({ now, before }: { now?: number; before?: number }) {
  if (now === undefined || before === undefined) return null;
  if (before === 0) return <span>yesterday: 0</span>;
  const d = (now - before) / before;
  return (
    <span class={d >= 0 ? 'up' : 'down'}>
      {d >= 0 ? '▲' : '▼'} {Math.abs(d * 100).toFixed(1)} % vs yesterday
    </span>
  );
}

function AdTable({ rows, error }: { rows: AdRow[]; error?: string }) {
  const [showAll, setShowAll] = useState(false);
  const [page, setPage] = useState(0);
  const shown = useMemo(() => {
    const sorted = [...rows].sort((a, b) => b.impressions - a.impressions || a.adId.localeCompare(b.adId));
    return showAll ? sorted : sorted.filter((r) => r.impressions >= SMALL_COUNT);
  }, [rows, showAll]);
  const pages = Math.max(1, Math.ceil(shown.length / PAGE_ROWS));
  const at = Math.min(page, pages - 1);
  const pageRows = useMemo(() => shown.slice(at * PAGE_ROWS, (at + 1) * PAGE_ROWS), [shown, at]);
  const hidden = rows.length - shown.length;
  return (
    <Section title="Ads today">
      <ErrorNote error={error} />
      <p class="hint" id="ads-hidden">
        {hidden > 0 ? `${hidden} ad${hidden === 1 ? '' : 's'} under ${SMALL_COUNT} impressions hidden. ` : ''}
        <label>
          <input type="checkbox" checked={showAll} onChange={(e) => setShowAll((e.target as HTMLInputElement).checked)} /> show small counts
        </label>
      </p>
      <div class="scroll">
        <table id="ads-table" data-rows={shown.length}>
          <caption>
            ads {shown.length === 0 ? 0 : at * PAGE_ROWS + 1}–{at * PAGE_ROWS + pageRows.length} of {fmt.int(shown.length)}, most impressions first
          </caption>
          <ColumnHeads cols={['Ad', { num: 'Impressions' }, { num: 'Clicks' }, { num: 'CTR' }]} />
          <AdRows rows={pageRows} />
        </table>
      </div>
      {pages > 1 ? (
        <div class="pager">
          <button type="button" disabled={at === 0} onClick={() => setPage(at - 1)}>
            ← Previous
          </button>
          <button type="button" disabled={at >= pages - 1} onClick={() => setPage(at + 1)}>
            Next →
          </button>
        </div>
      ) : null}
    </Section>
  );
}

/** The table body re-renders only when its rows changed (a new load), not with the rest of the page. */
class AdRows extends Component<{ rows: AdRow[] }> {
  private started = 0;
  override shouldComponentUpdate(next: { rows: AdRow[] }) {
    return next.rows !== this.props.rows;
  }
  override componentDidMount() {
    this.measured();
  }
  override componentDidUpdate() {
    this.measured();
  }
  /** Render to next frame, kept on the table for the console bench (bench/console). */
  private measured() {
    const t0 = this.started;
    requestAnimationFrame(() => {
      const table = document.getElementById('ads-table');
      if (table) table.dataset.renderMs = (performance.now() - t0).toFixed(1);
    });
  }
  override render() {
    this.started = performance.now();
    return (
      <tbody>
        {this.props.rows.map((r) => (
          <tr key={r.adId}>
            <th scope="row">{r.adId}</th>
            <td class="num">{fmt.int(r.impressions)}</td>
            <td class="num">{fmt.int(r.clicks)}</td>
            <td class="num">{fmt.pct(r.ctr)}</td>
          </tr>
        ))}
      </tbody>
    );
  }
}

interface Figures {
  impressions: number;
  clicks: number;
  ctr: number;
}
interface Report {
  date: string;
  totals: Figures;
  reconciliation: { matches: boolean; totals: { offline: Figures; realtime: Figures; late: Figures; unexplained: Figures } };
}

function DailyReport({ campaignId }: { campaignId: string }) {
  const [date, setDate] = useState(new Date(startOfUtcDay(Date.now()) - DAY).toISOString().slice(0, 10));
  const report = useLoad(() => get<Report>('/reports/daily', { date, campaignId }), [date, campaignId]);
  const r = report.value?.date === date ? report.value : undefined;
  const rec = r?.reconciliation;
  return (
    <Section title="T+1 daily report">
      <div class="toolbar">
        <label for="report-date">Day (UTC)</label>
        <input id="report-date" type="date" value={date} onChange={(e) => setDate((e.target as HTMLInputElement).value)} />
      </div>
      {report.error && !r ? <p class="hint">{report.error}</p> : null}
      {r && rec ? (
        <>
          <div class="stats">
            <Stat label="Impressions (offline)" value={fmt.int(r.totals.impressions)} />
            <Stat label="Clicks (offline)" value={fmt.int(r.totals.clicks)} />
            <Stat label="CTR" value={fmt.pct(r.totals.ctr)} />
          </div>
          <p>
            Reconciliation with the real-time counts:{' '}
            <strong class={rec.matches ? 'ok' : 'bad'}>{rec.matches ? 'matches' : 'does not match'}</strong> — real-time {fmt.int(rec.totals.realtime.impressions)}{' '}
            impressions, {fmt.int(rec.totals.late.impressions)} late (offline only), {fmt.int(rec.totals.unexplained.impressions)} unexplained.
          </p>
        </>
      ) : null}
    </Section>
  );
}
