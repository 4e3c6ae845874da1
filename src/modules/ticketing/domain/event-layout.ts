import { TicketingCode as C, TicketingError } from '../ticketing.errors';
import { CreateEventInput, SectionInput } from '../ticketing.types';

/** Events hold at most this many places (one SQL row each). */
export const MAX_CAPACITY = 100_000;

export interface WaitingRoomConfig {
  enabled: boolean;
  admitPerSecond: number;
}

/** An event as the application uses it; events never change once created. */
export interface TicketedEvent {
  id: string;
  name: string;
  kind: 'SEATED' | 'GA';
  startsAtMs: number;
  salesOpenAtMs: number | null;
  holdTtlSeconds: number;
  maxPerUser: number;
  capacity: number;
  /** As given: `{sections}` or `{generalAdmission}`. */
  layout: { sections?: SectionInput[]; generalAdmission?: { capacity: number; price: number } };
  waitingRoom: WaitingRoomConfig | null;
}

export type NewEvent = Omit<TicketedEvent, 'id'>;

/** The event to create from a request, or 400 `invalid_event` naming the field. */
export function planEvent(input: CreateEventInput): NewEvent {
  const startsAtMs = Date.parse(input.startsAt);
  if (Number.isNaN(startsAtMs)) throw invalid('startsAt', 'startsAt must be an ISO 8601 date-time');
  const salesOpenAtMs = input.salesOpenAt === undefined ? null : Date.parse(input.salesOpenAt);
  if (Number.isNaN(salesOpenAtMs)) throw invalid('salesOpenAt', 'salesOpenAt must be an ISO 8601 date-time');
  if (salesOpenAtMs !== null && salesOpenAtMs > startsAtMs) throw invalid('salesOpenAt', 'salesOpenAt must not be after startsAt');
  const ga = input.generalAdmission;
  if ((input.sections !== undefined) === (ga !== undefined)) throw invalid('sections', 'give exactly one of sections or generalAdmission');
  const sections = input.sections ?? [];
  if (!ga && sections.length === 0) throw invalid('sections', 'sections must not be empty');
  if (new Set(sections.map((s) => s.name)).size !== sections.length) throw invalid('sections', 'section names must be unique');
  const capacity = ga ? ga.capacity : sections.reduce((n, s) => n + s.rows * s.seatsPerRow, 0);
  if (!(capacity > 0)) throw invalid('capacity', 'capacity must be positive');
  if (capacity > MAX_CAPACITY) throw invalid('capacity', `capacity must be at most ${MAX_CAPACITY}`);
  return {
    name: input.name,
    kind: ga ? 'GA' : 'SEATED',
    startsAtMs,
    salesOpenAtMs,
    holdTtlSeconds: input.holdTtlSeconds ?? 300,
    maxPerUser: input.maxPerUser ?? 4,
    capacity,
    layout: ga ? { generalAdmission: ga } : { sections },
    waitingRoom: input.waitingRoom ?? null,
  };
}

/** True when `id` (`<section>-<row>-<seat>`, 1-based) names a seat of the layout. */
export function seatInLayout(sections: readonly Pick<SectionInput, 'name' | 'rows' | 'seatsPerRow'>[], id: string): boolean {
  const m = /^([A-Za-z0-9_]{1,32})-([1-9]\d*)-([1-9]\d*)$/.exec(id);
  if (!m) return false;
  const s = sections.find((x) => x.name === m[1]);
  return s !== undefined && Number(m[2]) <= s.rows && Number(m[3]) <= s.seatsPerRow;
}

export const toCents = (price: number) => Math.round(price * 100);
export const fromCents = (c: number | string) => Number(c) / 100;
export const iso = (ms: number | string) => new Date(Number(ms)).toISOString();

export function invalid(field: string, message: string, code: C = C.InvalidEvent): TicketingError {
  return new TicketingError('invalid', code, message, { errors: [{ field, message }] });
}
