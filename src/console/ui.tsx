import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from './api';

/** Runs `load` when `deps` change; keeps the last value while reloading. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): { value: T | undefined; error: string | undefined; reload: () => void } {
  const [value, setValue] = useState<T>();
  const [error, setError] = useState<string>();
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    load().then(
      (v) => live && (setValue(v), setError(undefined)),
      (e: unknown) => live && setError(message(e)),
    );
    return () => {
      live = false;
    };
  }, [...deps, tick]);
  return { value, error, reload: () => setTick((t) => t + 1) };
}

export function useInterval(fn: () => void, ms: number | null): void {
  const saved = useRef(fn);
  saved.current = fn;
  useEffect(() => {
    if (ms === null) return;
    const t = setInterval(() => saved.current(), ms);
    return () => clearInterval(t);
  }, [ms]);
}

/** Re-renders every `ms` (for ages such as "12 s ago"). */
export function useNow(ms = 1000): number {
  const [now, setNow] = useState(Date.now());
  useInterval(() => setNow(Date.now()), ms);
  return now;
}

export function message(e: unknown): string {
  if (e instanceof ApiError) return `${e.message}${e.code ? ` (${e.code})` : ''}`;
  return e instanceof Error ? e.message : String(e);
}

// One formatter for every number: Number#toLocaleString builds a new one per call, which costs
// milliseconds over a 1,000-row table.
const INT = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

export const fmt = {
  int: (n: number | null | undefined) => (n === null || n === undefined ? '–' : INT.format(n)),
  pct: (x: number | null | undefined, digits = 2) => (x === null || x === undefined ? '–' : `${(x * 100).toFixed(digits)} %`),
  secs: (s: number) => (s < 90 ? `${Math.round(s)} s` : s < 5400 ? `${Math.round(s / 60)} min` : `${(s / 3600).toFixed(1)} h`),
  time: (iso: string) => new Date(iso).toLocaleTimeString('en-GB', { hour12: false }),
};

export function ErrorNote({ error }: { error?: string }) {
  return error ? (
    <p class="error" role="alert">
      {error}
    </p>
  ) : null;
}

export function Section({ title, children, id }: { title: string; children: ComponentChildren; id?: string }) {
  const hid = `h-${id ?? title.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`;
  return (
    <section class="card" aria-labelledby={hid}>
      <h2 id={hid}>{title}</h2>
      {children}
    </section>
  );
}

/** A table's header row; `{ num }` columns hold numbers and are right-aligned like their cells. */
export function ColumnHeads({ cols }: { cols: (string | { num: string })[] }) {
  return (
    <thead>
      <tr>
        {cols.map((c) =>
          typeof c === 'string' ? (
            <th scope="col" key={c}>
              {c}
            </th>
          ) : (
            <th scope="col" class="num" key={c.num}>
              {c.num}
            </th>
          ),
        )}
      </tr>
    </thead>
  );
}

export function Stat({ label, value, note }: { label: string; value: string; note?: ComponentChildren }) {
  return (
    <div class="stat">
      <div class="stat-label">{label}</div>
      <div class="stat-value">{value}</div>
      {note ? <div class="stat-note">{note}</div> : null}
    </div>
  );
}

/** The state of a live stream, announced politely to screen readers. */
export function LiveBadge({ state }: { state: string }) {
  return (
    <span class={`badge badge-${state}`} role="status" aria-live="polite">
      {state === 'live' ? '● live' : state}
    </span>
  );
}

export function Legend({ items }: { items: [string, string][] }) {
  return (
    <ul class="legend" aria-label="legend">
      {items.map(([label, cls]) => (
        <li key={label}>
          <span class={`swatch ${cls}`} aria-hidden="true" /> {label}
        </li>
      ))}
    </ul>
  );
}
