import { ManualClock } from '../../../../test/support/manual-clock';
import { MemoryKeyValueStore } from '../../../platform/kv/memory-key-value-store';
import { InProcessWaitingRoomStore } from '../adapters/in-process-waiting-room-store';
import { RoomEvent, WaitingRoomService } from './waiting-room.service';

/** Admission arithmetic of the room on the in-process store (the Lua twin runs in the e2e tests on Redis). */
describe('WaitingRoomService admission', () => {
  const T0 = 1_800_000_000_000;
  let kv: MemoryKeyValueStore;
  let clock: ManualClock;
  let room: WaitingRoomService;
  const event = (rate: number, salesOpenAtMs: number | null = null): RoomEvent => ({
    id: `ev-${rate}-${salesOpenAtMs}`,
    waitingRoom: { enabled: true, admitPerSecond: rate },
    salesOpenAtMs,
    startsAtMs: T0 + 86_400_000,
  });

  beforeEach(() => {
    kv = new MemoryKeyValueStore();
    clock = new ManualClock(T0);
    room = new WaitingRoomService(new InProcessWaitingRoomStore(kv, 'spec'), clock);
  });
  afterEach(() => kv.close());

  it('admits the first second at once, then exactly admitPerSecond per second', async () => {
    const e = event(10);
    const joined = [];
    for (let i = 1; i <= 35; i++) joined.push(await room.join(e, `u${i}`));
    expect(joined.filter((j) => j.admitted)).toHaveLength(10);
    expect(joined[10]).toMatchObject({ queueNumber: 11, position: 1, estimatedWaitSeconds: 1 });
    expect(joined[34]).toMatchObject({ queueNumber: 35, position: 25, estimatedWaitSeconds: 3 });
    clock.advance(1000);
    expect((await room.status(e, joined[19].token)).admitted).toBe(true);
    expect((await room.status(e, joined[20].token)).admitted).toBe(false);
    clock.advance(1500);
    expect((await room.status(e, joined[34].token)).admitted).toBe(true);
  });

  it('banks at most one second of admissions while the room is idle', async () => {
    const e = event(5);
    await room.join(e, 'first');
    clock.advance(60_000); // a quiet minute
    const later = [];
    for (let i = 0; i < 12; i++) later.push(await room.join(e, `late${i}`));
    // Numbers 2..13: the frontier may run to 1 + 5 = 6, not 1 + 300.
    expect(later.filter((j) => j.admitted).map((j) => j.queueNumber)).toEqual([2, 3, 4, 5, 6]);
  });

  it('does not run the clock before salesOpenAt', async () => {
    const e = event(2, T0 + 10_000);
    const js = [];
    for (const u of ['a', 'b', 'c', 'd', 'e']) js.push(await room.join(e, u));
    clock.advance(9_000);
    expect((await room.status(e, js[2].token)).admitted).toBe(false);
    clock.advance(1_500); // 0.5 s after the opening: one more
    expect((await room.status(e, js[2].token)).admitted).toBe(true);
    expect((await room.status(e, js[3].token)).admitted).toBe(false);
  });

  it('binds the token to its user and answers 403/429 at the hold gate', async () => {
    const e = event(1);
    const a = await room.join(e, 'a');
    const b = await room.join(e, 'b');
    await expect(room.requireAdmitted(e, a.token, 'a')).resolves.toBeUndefined();
    await expect(room.requireAdmitted(e, undefined, 'a')).rejects.toMatchObject({ kind: 'forbidden', code: 'waiting_room_token_required' });
    await expect(room.requireAdmitted(e, a.token, 'b')).rejects.toMatchObject({ kind: 'forbidden', code: 'waiting_room_token_invalid' });
    await expect(room.requireAdmitted(e, b.token, 'b')).rejects.toMatchObject({
      kind: 'rate_limited',
      code: 'waiting_room_not_admitted',
      extra: { position: 1, retryAfterSeconds: 1 },
    });
    // Events without an enabled room are not gated at all.
    await expect(room.requireAdmitted({ ...e, waitingRoom: null }, undefined, 'x')).resolves.toBeUndefined();
  });
});
