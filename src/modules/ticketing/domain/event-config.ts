/**
 * Ticketed event configuration: validation, seat ids and capacity. Plain TypeScript.
 * Prices are integer minor units (cents). Times are epoch milliseconds.
 */
export const SECTION_ID_PATTERN = /^[A-Za-z0-9_]{1,32}$/;
export const EVENT_ID_PATTERN = /^[A-Za-z0-9:_-]{1,64}$/;
export const GA_ROW = 'GA';
export const MAX_CAPACITY = 1_000_000;

export interface SeatedSection {
  id: string;
  kind: 'seated';
  rows: number;
  seatsPerRow: number;
  price: number;
}

export interface GeneralAdmissionSection {
  id: string;
  kind: 'ga';
  capacity: number;
  price: number;
}

export type Section = SeatedSection | GeneralAdmissionSection;

export interface EventConfig {
  id: string;
  sections: Section[];
  holdTtlSeconds: number;
  maxPerUser: number;
  salesOpenAt: number;
  /** Optional end of sales; undefined = open until the event config says otherwise. */
  salesCloseAt?: number;
  currency: string;
}

export type Validation<T> = { ok: true; value: T } | { ok: false; errors: string[] };

const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const isPosInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v > 0;
const isNonNegInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

function toEpochMs(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return v;
  if (typeof v === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(v)) {
    const ms = Date.parse(v);
    return Number.isNaN(ms) ? undefined : ms;
  }
  return undefined;
}

function validateSection(s: unknown, i: number, errors: string[]): Section | undefined {
  const at = `sections[${i}]`;
  if (!isObj(s)) {
    errors.push(`${at} must be an object`);
    return undefined;
  }
  const before = errors.length;
  if (typeof s.id !== 'string' || !SECTION_ID_PATTERN.test(s.id)) errors.push(`${at}.id must match [A-Za-z0-9_]{1,32}`);
  if (!isNonNegInt(s.price)) errors.push(`${at}.price must be a non-negative integer (minor units)`);
  const kind = s.kind ?? (s.capacity !== undefined ? 'ga' : 'seated');
  if (kind === 'seated') {
    if (!isPosInt(s.rows)) errors.push(`${at}.rows must be a positive integer`);
    if (!isPosInt(s.seatsPerRow)) errors.push(`${at}.seatsPerRow must be a positive integer`);
    if (errors.length > before) return undefined;
    return { id: s.id as string, kind, rows: s.rows as number, seatsPerRow: s.seatsPerRow as number, price: s.price as number };
  }
  if (kind === 'ga') {
    if (!isPosInt(s.capacity)) errors.push(`${at}.capacity must be a positive integer`);
    if (errors.length > before) return undefined;
    return { id: s.id as string, kind, capacity: s.capacity as number, price: s.price as number };
  }
  errors.push(`${at}.kind must be seated or ga`);
  return undefined;
}

export function sectionCapacity(s: Section): number {
  return s.kind === 'seated' ? s.rows * s.seatsPerRow : s.capacity;
}

export function eventCapacity(config: Pick<EventConfig, 'sections'>): number {
  return config.sections.reduce((sum, s) => sum + sectionCapacity(s), 0);
}

export function validateEventConfig(input: unknown): Validation<EventConfig> {
  if (!isObj(input)) return { ok: false, errors: ['config must be an object'] };
  const errors: string[] = [];
  if (typeof input.id !== 'string' || !EVENT_ID_PATTERN.test(input.id)) errors.push('id must match [A-Za-z0-9:_-]{1,64}');
  const sections: Section[] = [];
  if (!Array.isArray(input.sections) || input.sections.length === 0) {
    errors.push('sections must be a non-empty array');
  } else {
    input.sections.forEach((s, i) => {
      const v = validateSection(s, i, errors);
      if (v) sections.push(v);
    });
    const ids = sections.map((s) => s.id);
    const dup = ids.find((id, i) => ids.indexOf(id) !== i);
    if (dup !== undefined) errors.push(`duplicate section id ${dup}`);
  }
  if (!isPosInt(input.holdTtlSeconds) || input.holdTtlSeconds > 3600) errors.push('holdTtlSeconds must be an integer in 1..3600');
  if (!isPosInt(input.maxPerUser)) errors.push('maxPerUser must be a positive integer');
  const salesOpenAt = toEpochMs(input.salesOpenAt);
  if (salesOpenAt === undefined) errors.push('salesOpenAt must be epoch ms or an ISO-8601 timestamp');
  let salesCloseAt: number | undefined;
  if (input.salesCloseAt !== undefined) {
    salesCloseAt = toEpochMs(input.salesCloseAt);
    if (salesCloseAt === undefined) errors.push('salesCloseAt must be epoch ms or an ISO-8601 timestamp');
    else if (salesOpenAt !== undefined && salesCloseAt <= salesOpenAt) errors.push('salesCloseAt must be after salesOpenAt');
  }
  const currency = input.currency ?? 'EUR';
  if (typeof currency !== 'string' || !/^[A-Z]{3}$/.test(currency)) errors.push('currency must be an ISO-4217 code');
  if (errors.length === 0) {
    const capacity = eventCapacity({ sections });
    if (capacity <= 0) errors.push('capacity must be > 0');
    if (capacity > MAX_CAPACITY) errors.push(`capacity must be at most ${MAX_CAPACITY}`);
  }
  if (errors.length > 0) return { ok: false, errors };
  const value: EventConfig = {
    id: input.id as string,
    sections,
    holdTtlSeconds: input.holdTtlSeconds as number,
    maxPerUser: input.maxPerUser as number,
    salesOpenAt: salesOpenAt as number,
    currency: currency as string,
  };
  if (salesCloseAt !== undefined) value.salesCloseAt = salesCloseAt;
  return { ok: true, value };
}

/** `<section>-<row>-<seat>`; rows and seats are 1-based; GA units use row `GA`. */
export function seatId(section: string, row: number | string, seat: number): string {
  return `${section}-${row}-${seat}`;
}

export interface ParsedSeatId {
  section: string;
  row: string;
  seat: number;
}

export function parseSeatId(id: string): ParsedSeatId | undefined {
  const m = /^([A-Za-z0-9_]{1,32})-(GA|[1-9]\d*)-([1-9]\d*)$/.exec(id);
  return m ? { section: m[1], row: m[2], seat: Number(m[3]) } : undefined;
}

/** All inventory unit ids of a section (seated: row-major; GA: `<section>-GA-<n>`). */
export function* sectionSeatIds(s: Section): Generator<string> {
  if (s.kind === 'seated') {
    for (let r = 1; r <= s.rows; r++) for (let n = 1; n <= s.seatsPerRow; n++) yield seatId(s.id, r, n);
  } else {
    for (let n = 1; n <= s.capacity; n++) yield seatId(s.id, GA_ROW, n);
  }
}

export function allSeatIds(config: Pick<EventConfig, 'sections'>): string[] {
  return config.sections.flatMap((s) => [...sectionSeatIds(s)]);
}

/** True when the id names a unit that exists in this event. */
export function seatExists(config: Pick<EventConfig, 'sections'>, id: string): boolean {
  const p = parseSeatId(id);
  if (!p) return false;
  const s = config.sections.find((x) => x.id === p.section);
  if (!s) return false;
  if (s.kind === 'ga') return p.row === GA_ROW && p.seat <= s.capacity;
  return p.row !== GA_ROW && Number(p.row) <= s.rows && p.seat <= s.seatsPerRow;
}
