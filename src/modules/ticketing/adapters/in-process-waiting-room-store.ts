import { KeyValueStore } from '../../../platform/kv/key-value-store.port';
import { GateClock, joinRoom, peekRoom, RoomState } from '../domain/waiting-room';
import { WaitingRoomStore } from '../ports/waiting-room-store.port';

const GATE = '#gate';

/**
 * The embedded profile's waiting rooms: each line in this process, changed by the domain functions
 * (synchronous, so atomic), and journaled in the key/value store (one hash per event: token →
 * "number|user", and the gate), which the embedded profile keeps on disk: a restart keeps the line.
 */
export class InProcessWaitingRoomStore extends WaitingRoomStore {
  private readonly rooms = new Map<string, Promise<RoomState>>();

  constructor(
    private readonly kv: KeyValueStore,
    private readonly namespace: string,
  ) {
    super();
  }

  private key(eventId: string): string {
    return `${this.namespace}:ticketing:room:${eventId}`;
  }

  private room(eventId: string): Promise<RoomState> {
    let room = this.rooms.get(eventId);
    if (!room) {
      room = this.kv.hGetAll(this.key(eventId)).then((stored) => {
        const s: RoomState = { last: 0, tokens: new Map(), byUser: new Map(), gate: null };
        for (const [field, v] of Object.entries(stored)) {
          const at = v.indexOf('|');
          const [a, b] = [Number(v.slice(0, at)), v.slice(at + 1)];
          if (field === GATE) s.gate = { frontier: a, lastMs: Number(b) };
          else {
            s.tokens.set(field, { n: a, userId: b });
            s.byUser.set(b, field);
            s.last = Math.max(s.last, a);
          }
        }
        return s;
      });
      this.rooms.set(eventId, room);
    }
    return room;
  }

  async join(eventId: string, userId: string, freshToken: string, c: GateClock & { ttlMs: number }) {
    const s = await this.room(eventId);
    const before = s.last;
    const r = joinRoom(s, userId, freshToken, c);
    await this.kv.hSet(this.key(eventId), { [GATE]: `${s.gate!.frontier}|${s.gate!.lastMs}`, ...(s.last !== before ? { [r.token]: `${r.n}|${userId}` } : {}) });
    if (s.last !== before) await this.kv.pExpire(this.key(eventId), c.ttlMs);
    return r;
  }

  async peek(eventId: string, token: string, c: GateClock & { ttlMs: number }) {
    const s = await this.room(eventId);
    const r = peekRoom(s, token, c);
    if (r) await this.kv.hSet(this.key(eventId), { [GATE]: `${s.gate!.frontier}|${s.gate!.lastMs}` });
    return r;
  }

  async line(eventId: string) {
    const s = await this.room(eventId);
    return { joined: s.last, gate: s.gate && { ...s.gate } };
  }
}
