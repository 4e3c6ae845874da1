import Redis from 'ioredis';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { http } from '../support/app';
import { AppProcess } from '../support/processes';
import { TEST_SERVICES } from '../support/services';
import { eventKeyPrefix } from '../support/ticketing';

const ADMIN = 'crash-admin-key';
const CLIENT = 'crash-client-key';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));



/**
 * Acceptance: the app PROCESS is killed (SIGKILL) between hold and payment confirmation, with
 * charges in flight at the simulated provider (recorded there, answer not yet back) and holds
 * being placed; then restarted with the same NAMESPACE, and the hot inventory is flushed from
 * Redis on top. The test waits for the reconcilers and checks, from PostgreSQL, Redis and the
 * provider's ledger directly: nothing PENDING or ACTIVE is left; Redis agrees with SQL;
 * available + held + sold = capacity; every CONFIRMED order has exactly its seats' tickets; no
 * seat sold twice; no captured payment without tickets and no tickets without a captured payment.
 */
describe('ticketing crash convergence (full profile, app process SIGKILLed mid-payment)', () => {
  const ns = `crash-${randomBytes(3).toString('hex')}`;
  const env: Record<string, string> = {
    APP_PROFILE: 'full',
    APP_MODULES: 'ticketing',
    HOST: '127.0.0.1',
    NAMESPACE: ns,
    NODE_ENV: 'test',
    LOG_LEVEL: 'warn',
    DATA_DIR: 'memory',
    ...TEST_SERVICES,
    DATABASE_POOL_SIZE: '8',
    KAFKA_PARTITIONS: '3',
    API_KEYS: `admin:${ADMIN},client:${CLIENT}`,
    RATE_LIMIT_PER_SECOND: '0',
    TICKETING_WEBHOOK_SECRETS: 'crash-test-webhook-secret',
    // Charges take 3 s to answer: the kill lands while they are recorded but unanswered.
    TICKETING_PAYMENT_LATENCY_MS: '3000',
    // Deadline = the later of hold expiry (6 s) and checkout + 6 s.
    TICKETING_PAYMENT_WINDOW_SECONDS: '6',
  };
  const apps: AppProcess[] = [];
  const db = new Client({ connectionString: TEST_SERVICES.DATABASE_URL });
  const redis = new Redis(TEST_SERVICES.REDIS_URL, { lazyConnect: true });

  beforeAll(async () => {
    await db.connect();
    await redis.connect();
  });
  afterAll(async () => {
    for (const a of apps) await a.kill('SIGKILL');
    await db.end();
    redis.disconnect();
  });

  it('converges after a SIGKILL with payments in flight, a restart and a Redis flush', async () => {
    let n = 0;
    const app1 = await new AppProcess(env).start();
    apps.push(app1);
    const call = (app: AppProcess, method: string, path: string, body?: unknown, admin = false) =>
      http(app.url, method, path, { key: admin ? ADMIN : CLIENT, body, headers: method === 'POST' && !admin ? { 'idempotency-key': `${ns}-${++n}` } : {} });
    const startsAt = new Date(Date.now() + 86_400_000).toISOString();
    const ga = (await call(app1, 'POST', '/api/v1/events', { name: 'GA', startsAt, holdTtlSeconds: 6, maxPerUser: 2, generalAdmission: { capacity: 60, price: 12.5 } }, true)).body;
    const seated = (
      await call(app1, 'POST', '/api/v1/events', { name: 'Seated', startsAt, holdTtlSeconds: 6, maxPerUser: 2, sections: [{ name: 'A', rows: 4, seatsPerRow: 6, price: 40 }] }, true)
    ).body;
    expect(ga.capacity).toBe(60);
    expect(seated.capacity).toBe(24);

    // Holds: 24 GA + 10 seated; 2/3 of them are checked out, the rest are left to expire.
    const holds = await Promise.all([
      ...Array.from({ length: 24 }, (_, i) => call(app1, 'POST', `/api/v1/events/${ga.id}/holds`, { userId: `g${i}`, quantity: 1 + (i % 2) })),
      ...Array.from({ length: 10 }, (_, i) => call(app1, 'POST', `/api/v1/events/${seated.id}/holds`, { userId: `s${i}`, seatIds: [`A-${1 + (i % 4)}-${1 + Math.floor(i / 4) * 2}`] })),
    ]);
    expect(holds.map((h) => h.status)).toEqual(holds.map(() => 201));
    const toBuy = holds.filter((_, i) => i % 3 !== 2);
    const checkouts = await Promise.all(toBuy.map((h, i) => call(app1, 'POST', `/api/v1/holds/${h.body.holdId}/checkout`, { paymentMethod: i % 7 === 3 ? 'decline' : 'card' })));
    expect(checkouts.map((c) => c.status)).toEqual(checkouts.map(() => 202));
    const orderIds: string[] = checkouts.map((c) => c.body.orderId);

    const ledger = async () => {
      const out = new Map<string, { status: string; amountCents: number }>();
      for (const id of orderIds) {
        const raw = await redis.get(`${ns}:simpay:${id}`);
        if (raw) out.set(id, JSON.parse(raw));
      }
      return out;
    };
    // Once charges have reached the provider (recorded, answer 3 s away), and with holds still
    // arriving, kill -9 mid-flight.
    for (let i = 0; i < 100 && [...(await ledger()).values()].filter((p) => p.status === 'captured').length < 3; i++) await sleep(100);
    const burst = Array.from({ length: 30 }, (_, i) =>
      call(app1, 'POST', `/api/v1/events/${ga.id}/holds`, { userId: `late${i}`, quantity: 1 }).catch(() => undefined),
    );
    await sleep(50);
    expect(await app1.kill('SIGKILL')).toBe('SIGKILL');
    await Promise.all(burst);
    const pendingAtKill: { n: string }[] = (
      await db.query(`SELECT count(*) AS n FROM ticketing_orders WHERE id = ANY($1) AND status = 'PENDING'`, [orderIds])
    ).rows;
    const capturedAtKill = [...(await ledger()).values()].filter((p) => p.status === 'captured').length;
    // The kill really landed between charge and confirmation.
    expect(Number(pendingAtKill[0].n)).toBeGreaterThan(0);
    expect(capturedAtKill).toBeGreaterThan(0);

    // Restart, and lose the seated event's hot inventory on top (a Redis flush): it is rebuilt
    // from SQL, while the GA event's inventory (which the kill may have left off by the holds in
    // flight) is checked against SQL and repaired by the drift reconciler.
    const app2 = await new AppProcess(env).start();
    apps.push(app2);
    const flushed = await redis.keys(`${eventKeyPrefix(ns, seated.id)}:*`);
    if (flushed.length > 0) await redis.del(...flushed);

    const events = [ga.id, seated.id];
    const redisAgrees = async (eventId: string, kind: 'GA' | 'SEATED') => {
      const free: string[] = (await db.query(`SELECT seat_id FROM ticketing_seats WHERE event_id = $1 AND status = 'AVAILABLE' ORDER BY seat_id`, [eventId])).rows.map(
        (r) => r.seat_id,
      );
      const perUser = new Map<string, number>(
        (
          await db.query(
            `SELECT h.user_id, count(*) AS n FROM ticketing_seats s JOIN ticketing_holds h ON h.id = s.hold_id WHERE s.event_id = $1 GROUP BY h.user_id`,
            [eventId],
          )
        ).rows.map((r) => [r.user_id, Number(r.n)]),
      );
      const p = eventKeyPrefix(ns, eventId);
      if ((await redis.get(`${p}:ready`)) === null) return false;
      const stockOk =
        kind === 'GA' ? Number(await redis.get(`${p}:stock`)) === free.length : JSON.stringify((await redis.smembers(`${p}:stock`)).sort()) === JSON.stringify(free);
      const users = await redis.hgetall(`${p}:users`);
      const usersOk =
        Object.keys(users).length === perUser.size && [...perUser].every(([u, c]) => Number(users[u]) === c);
      return stockOk && usersOk;
    };
    const converged = async () => {
      const open = await db.query(
        `SELECT (SELECT count(*) FROM ticketing_orders WHERE event_id = ANY($1) AND (status = 'PENDING' OR void_due)) AS orders,
                (SELECT count(*) FROM ticketing_holds WHERE event_id = ANY($1) AND status IN ('ACTIVE', 'CHECKOUT')) AS holds,
                (SELECT count(*) FROM outbox WHERE namespace = $2 AND published_at_ms IS NULL) AS outbox`,
        [events, ns],
      );
      const r = open.rows[0];
      return Number(r.orders) === 0 && Number(r.holds) === 0 && Number(r.outbox) === 0 && (await redisAgrees(ga.id, 'GA')) && (await redisAgrees(seated.id, 'SEATED'));
    };
    let ok = false;
    for (let i = 0; i < 90 && !ok; i++) {
      ok = await converged();
      if (!ok) await sleep(1000);
    }
    if (!ok) throw new Error(`no convergence in 90 s; app output:\n${app2.output.slice(-4000)}`);

    // Inventory invariants, per event, from SQL.
    for (const [eventId, capacity] of [[ga.id, 60], [seated.id, 24]] as const) {
      const a = (await call(app2, 'GET', `/api/v1/events/${eventId}/availability`)).body;
      expect(a.available + a.held + a.sold).toBe(capacity);
      expect(a.held).toBe(0);
      const sold = Number((await db.query(`SELECT count(*) AS n FROM ticketing_seats WHERE event_id = $1 AND status = 'SOLD'`, [eventId])).rows[0].n);
      const tickets = await db.query(`SELECT count(*) AS n, count(DISTINCT seat_id) AS d FROM ticketing_tickets WHERE event_id = $1`, [eventId]);
      expect(Number(tickets.rows[0].n)).toBe(sold);
      expect(Number(tickets.rows[0].d)).toBe(sold); // no seat sold twice
      expect(a.sold).toBe(sold);
    }

    // Every CONFIRMED order has exactly its hold's seats as tickets; the others have none.
    const orders = (
      await db.query(
        `SELECT o.id, o.status, h.quantity,
                (SELECT count(*) FROM ticketing_tickets t JOIN ticketing_seats s ON s.event_id = t.event_id AND s.seat_id = t.seat_id
                  WHERE t.order_id = o.id AND s.status = 'SOLD' AND s.hold_id = o.hold_id) AS own_tickets,
                (SELECT count(*) FROM ticketing_tickets t WHERE t.order_id = o.id) AS tickets
         FROM ticketing_orders o JOIN ticketing_holds h ON h.id = o.hold_id WHERE o.id = ANY($1)`,
        [orderIds],
      )
    ).rows;
    expect(orders).toHaveLength(orderIds.length);
    const payments = await ledger();
    for (const o of orders) {
      const paid = payments.get(o.id)?.status === 'captured';
      if (o.status === 'CONFIRMED') {
        expect([o.id, Number(o.tickets), Number(o.own_tickets)]).toEqual([o.id, o.quantity, o.quantity]);
        expect([o.id, paid]).toEqual([o.id, true]); // no tickets without money
      } else {
        expect(['FAILED', 'EXPIRED']).toContain(o.status);
        expect([o.id, Number(o.tickets)]).toEqual([o.id, 0]);
        expect([o.id, paid]).toEqual([o.id, false]); // refunded or voided: nothing charged without a ticket
      }
    }
    // Holds never checked out expired; none is left ACTIVE.
    const unbought = holds.filter((_, i) => i % 3 === 2).map((h) => h.body.holdId);
    const hs = (await db.query(`SELECT status FROM ticketing_holds WHERE id = ANY($1)`, [unbought])).rows.map((r) => r.status);
    expect(new Set(hs)).toEqual(new Set(['EXPIRED']));

    // And the restarted app takes new holds from the repaired inventory.
    const again = await call(app2, 'POST', `/api/v1/events/${ga.id}/holds`, { userId: 'after-crash', quantity: 2 });
    expect(again.status).toBe(201);
    expect(await app2.kill('SIGTERM')).toBe(0);
  }, 150_000);
});
