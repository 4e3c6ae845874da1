import { useEffect, useMemo, useState } from 'preact/hooks';
import { can, follow, get, Role, StreamState } from '../api';
import { ColumnHeads, ErrorNote, fmt, Legend, LiveBadge, Section, Stat, useInterval, useLoad } from '../ui';

interface EventItem {
  id: string;
  name: string;
  kind: 'SEATED' | 'GA';
  startsAt: string;
  capacity: number;
}
interface Availability {
  capacity: number;
  available: number;
  held: number;
  sold: number;
  sections: { name: string; capacity: number; available: number; held: number; sold: number }[];
}
interface Seat {
  seatId: string;
  section: string;
  status: 'AVAILABLE' | 'HELD' | 'SOLD';
}
interface Line {
  enabled: boolean;
  joined: number;
  admitted: number;
  waiting: number;
  admitPerSecond: number;
}
interface Orders {
  byStatus: Record<string, number>;
  recent: { orderId: string; status: string; amount: number; failureReason: string | null; updatedAt: string }[];
}

/** Orders have no stream (service role only); a few seconds' refresh is enough for a person watching. */
const ORDERS_REFRESH_MS = 3000;

export function TicketingPage({ role }: { role: Role }) {
  const events = useLoad(() => get<{ events: EventItem[] }>('/events', { limit: 200 }), []);
  const [eventId, setEventId] = useState<string>();
  const list = events.value?.events ?? [];
  useEffect(() => {
    if (!eventId && list.length > 0) setEventId(list[0].id);
  }, [list.length]);
  const event = list.find((e) => e.id === eventId);
  return (
    <>
      <div class="toolbar">
        <label for="event">Event</label>
        <select id="event" value={eventId ?? ''} onChange={(e) => setEventId((e.target as HTMLSelectElement).value)}>
          {list.length === 0 ? <option value="">no events yet</option> : null}
          {list.map((e) => (
            <option key={e.id} value={e.id}>
              {e.name} — {e.kind === 'SEATED' ? 'seated' : 'general admission'}, {new Date(e.startsAt).toLocaleDateString('en-GB')}
            </option>
          ))}
        </select>
      </div>
      <ErrorNote error={events.error} />
      {event ? <EventView key={event.id} event={event} role={role} /> : null}
    </>
  );
}

function EventView({ event, role }: { event: EventItem; role: Role }) {
  const [availability, setAvailability] = useState<Availability>();
  const [seats, setSeats] = useState<Seat[]>([]);
  const [line, setLine] = useState<Line>();
  const [state, setState] = useState<StreamState>('connecting');
  useEffect(
    () =>
      follow(
        `/events/${encodeURIComponent(event.id)}/availability/stream`,
        { availability: setAvailability, seats: (s: { seats: Seat[] }) => setSeats(s.seats), queue: setLine },
        setState,
      ),
    [event.id],
  );
  const a = availability;
  return (
    <>
      <div class="row">
        <LiveBadge state={state} />
      </div>
      <Section title="Availability">
        <div class="stats" aria-live="polite" id="availability">
          <Stat label="Available" value={fmt.int(a?.available)} note={a ? `of ${fmt.int(a.capacity)}` : undefined} />
          <Stat label="Held" value={fmt.int(a?.held)} />
          <Stat label="Sold" value={fmt.int(a?.sold)} />
        </div>
        <div class="scroll">
          <table>
            <ColumnHeads cols={['Section', { num: 'Available' }, { num: 'Held' }, { num: 'Sold' }, 'Fill']} />
            <tbody>
              {(a?.sections ?? []).map((s) => (
                <tr key={s.name} data-section={s.name}>
                  <th scope="row">{s.name}</th>
                  <td class="num" data-field="available">
                    {fmt.int(s.available)}
                  </td>
                  <td class="num" data-field="held">
                    {fmt.int(s.held)}
                  </td>
                  <td class="num">{fmt.int(s.sold)}</td>
                  <td>
                    <meter min={0} max={s.capacity} value={s.held + s.sold} aria-label={`${s.name}: ${s.held + s.sold} of ${s.capacity} taken`} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </Section>
      {event.kind === 'SEATED' ? <SeatMap seats={seats} /> : null}
      <Section title="Waiting room">
        {line === undefined ? null : line.enabled ? (
          <div class="stats">
            <Stat label="In line" value={fmt.int(line.waiting)} />
            <Stat label="Admitted" value={fmt.int(line.admitted)} note={`of ${fmt.int(line.joined)} joined`} />
            <Stat label="Admission rate" value={`${line.admitPerSecond}/s`} />
          </div>
        ) : (
          <p class="hint">This event has no waiting room.</p>
        )}
      </Section>
      {can(role, 'service') ? <RecentOrders eventId={event.id} /> : null}
    </>
  );
}

const SEAT_WORD = { AVAILABLE: 'free', HELD: 'held', SOLD: 'sold' } as const;

/** Seats by section and row (ids are `section-row-number`), coloured by state. */
function SeatMap({ seats }: { seats: Seat[] }) {
  const sections = useMemo(() => {
    const by = new Map<string, Map<string, Seat[]>>();
    for (const s of seats) {
      const row = s.seatId.split('-').slice(-2, -1)[0] ?? '';
      let sec = by.get(s.section);
      if (!sec) by.set(s.section, (sec = new Map()));
      let r = sec.get(row);
      if (!r) sec.set(row, (r = []));
      r.push(s);
    }
    for (const sec of by.values()) for (const r of sec.values()) r.sort((x, y) => seatNo(x) - seatNo(y));
    return [...by.entries()];
  }, [seats]);
  return (
    <Section title="Seat map">
      <Legend items={[['free', 'seat-free'], ['held', 'seat-held'], ['sold', 'seat-sold']]} />
      {sections.map(([name, rows]) => (
        <div class="seat-section" key={name}>
          <h3>Section {name}</h3>
          {[...rows.entries()]
            .sort((x, y) => Number(x[0]) - Number(y[0]))
            .map(([row, list]) => (
              <div class="seat-row" key={row} role="group" aria-label={`section ${name}, row ${row}`}>
                <span class="seat-row-label" aria-hidden="true">
                  {row}
                </span>
                {list.map((s) => (
                  <span key={s.seatId} class={`seat seat-${SEAT_WORD[s.status]}`} data-seat={s.seatId} data-status={s.status} role="img" aria-label={`${s.seatId} ${SEAT_WORD[s.status]}`} title={`${s.seatId}: ${SEAT_WORD[s.status]}`} />
                ))}
              </div>
            ))}
        </div>
      ))}
    </Section>
  );
}

const seatNo = (s: Seat) => Number(s.seatId.split('-').pop());

function RecentOrders({ eventId }: { eventId: string }) {
  const orders = useLoad(() => get<Orders>(`/events/${encodeURIComponent(eventId)}/orders`), [eventId]);
  useInterval(orders.reload, ORDERS_REFRESH_MS);
  const o = orders.value;
  return (
    <Section title="Orders">
      <ErrorNote error={orders.error} />
      <div class="stats">
        {Object.entries(o?.byStatus ?? {}).map(([s, n]) => (
          <Stat key={s} label={s.toLowerCase()} value={fmt.int(n)} />
        ))}
      </div>
      <div class="scroll">
        <table>
          <caption>latest orders</caption>
          <ColumnHeads cols={['Order', 'State', { num: 'Amount' }, 'Updated']} />
          <tbody>
            {(o?.recent ?? []).map((r) => (
              <tr key={r.orderId}>
                <th scope="row">
                  <code>{r.orderId.slice(0, 8)}</code>
                </th>
                <td>
                  {r.status.toLowerCase()}
                  {r.failureReason ? ` (${r.failureReason})` : ''}
                </td>
                <td class="num">{r.amount.toFixed(2)}</td>
                <td>{fmt.time(r.updatedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </Section>
  );
}
