// Validation of tracked events at the gateway, and their wire form on `ads.events`.
// Hand-written rather than class-validator: a batch holds up to 1,000 events and this is the hot path,
// and the error must name the index of the first bad event.
import type { AdEvent } from './stream-processor';

export const MAX_TRACK_BATCH = 1000;
export const TRACK_ID_PATTERN = /^[A-Za-z0-9:_.-]{1,128}$/;
const ID = TRACK_ID_PATTERN;
/** 2000-01-01 .. 2100-01-01: anything outside is a unit mistake (seconds, microseconds), not an event time. */
export const MIN_TS = 946_684_800_000;
export const MAX_TS = 4_102_444_800_000;

export interface EventProblem {
  index: number;
  field: string;
  message: string;
}

export type ParsedBatch = { ok: true; events: AdEvent[] } | { ok: false; problem: EventProblem };

/** Accepts `{ events: [...] }` or a bare array. Returns the events, or the first problem with its index. */
export function parseTrackBatch(body: unknown): ParsedBatch {
  const list = Array.isArray(body) ? body : isObject(body) && Array.isArray(body.events) ? body.events : undefined;
  if (!list) return fail(-1, 'events', 'body must be { "events": [...] } or an array of events');
  if (list.length === 0 || list.length > MAX_TRACK_BATCH) {
    return fail(-1, 'events', `a batch holds 1..${MAX_TRACK_BATCH} events, got ${list.length}`);
  }
  const events: AdEvent[] = new Array(list.length);
  for (let i = 0; i < list.length; i++) {
    const e: unknown = list[i];
    if (!isObject(e)) return fail(i, '', 'an event must be an object');
    if (e.type !== 'impression' && e.type !== 'click') return fail(i, 'type', 'type must be "impression" or "click"');
    for (const f of ['impressionId', 'adId', 'campaignId'] as const) {
      const v = e[f];
      if (typeof v !== 'string' || !ID.test(v)) return fail(i, f, `${f} must be 1-128 of [A-Za-z0-9:_.-]`);
    }
    const ts = e.ts;
    if (typeof ts !== 'number' || !Number.isInteger(ts) || ts < MIN_TS || ts > MAX_TS) {
      return fail(i, 'ts', 'ts must be an integer epoch-millisecond time between 2000 and 2100');
    }
    for (const k of Object.keys(e)) {
      if (k !== 'type' && k !== 'impressionId' && k !== 'adId' && k !== 'campaignId' && k !== 'ts') {
        return fail(i, k, `unknown field ${k}`);
      }
    }
    events[i] = { type: e.type, impressionId: e.impressionId as string, adId: e.adId as string, campaignId: e.campaignId as string, ts };
  }
  return { ok: true, events };
}

/** The message value on the log: the event with its fields in a fixed order. */
export function encodeEvent(e: AdEvent): string {
  return JSON.stringify({ type: e.type, impressionId: e.impressionId, adId: e.adId, campaignId: e.campaignId, ts: e.ts });
}

/** A decoded log message or archived record is an event: type checks only (it passed parseTrackBatch at the gateway). */
export function isAdEvent(v: unknown): v is AdEvent {
  if (typeof v !== 'object' || v === null) return false;
  const { type, impressionId, adId, campaignId, ts } = v as Partial<Record<keyof AdEvent, unknown>>;
  return (type === 'impression' || type === 'click') && typeof impressionId === 'string' && typeof adId === 'string' &&
    typeof campaignId === 'string' && typeof ts === 'number' && Number.isFinite(ts);
}

/** Decodes a log message; null when it is not an event (the worker counts and skips it). Runs per event in the worker. */
export function decodeEvent(value: string): AdEvent | null {
  let v: unknown;
  try {
    v = JSON.parse(value);
  } catch {
    return null;
  }
  // The parsed object itself, not a copy (one allocation less per event): the processor reads these
  // five fields and copies what it keeps, so an extra field on the log changes nothing.
  return isAdEvent(v) ? v : null;
}

function fail(index: number, field: string, message: string): ParsedBatch {
  return { ok: false, problem: { index, field, message } };
}
function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
