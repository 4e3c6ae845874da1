import { Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { AppConfig } from '../../../config/app-config';
import { Clock } from '../../../platform/clock/clock';
import { AppError } from '../../../platform/errors/app-error';
import { KeyValueStore } from '../../../platform/kv/key-value-store.port';
import { JOIN_ROOM, PEEK_ROOM } from '../adapters/waiting-room-scripts';
import { eventKeyPrefix } from '../adapters/hold-idempotency-scripts';

export interface WaitingRoomConfig {
  enabled: boolean;
  admitPerSecond: number;
}

/** What the room needs to know about an event (the ticketing service reads it from SQL). */
export interface RoomEvent {
  id: string;
  waitingRoom: WaitingRoomConfig | null;
  salesOpenAtMs: number | null;
  startsAtMs: number;
}

export interface QueueView {
  eventId: string;
  token: string;
  /** Your number in line (1 = first to join). */
  queueNumber: number;
  /** People still waiting up to and including you; 0 once admitted. */
  position: number;
  admitted: boolean;
  estimatedWaitSeconds: number;
  admitPerSecond: number;
}

export enum WaitingRoomCode {
  Disabled = 'waiting_room_disabled',
  TokenNotFound = 'waiting_room_token_not_found',
  TokenRequired = 'waiting_room_token_required',
  TokenInvalid = 'waiting_room_token_invalid',
  NotAdmitted = 'waiting_room_not_admitted',
}

/** The header a hold carries its admission token in. */
export const WAITING_ROOM_TOKEN_HEADER = 'waiting-room-token';

/**
 * Virtual waiting room for hot events. Joining hands out the next number in line and a random
 * 128-bit token (unforgeable: it exists only as stored in the key/value store) bound to the user;
 * numbers are admitted at the event's `admitPerSecond`, counted from salesOpenAt. State lives in
 * the key/value store and is changed only by atomic scripts, so any number of API instances share
 * one line. Holds on an event with the room enabled must present an admitted token of their user.
 */
@Injectable()
export class WaitingRoomService {
  constructor(
    private readonly kv: KeyValueStore,
    private readonly clock: Clock,
    private readonly config: AppConfig,
  ) {}

  async join(e: RoomEvent, userId: string): Promise<QueueView> {
    const room = this.enabledRoom(e);
    const [token, pos, frontier] = await this.kv.runScript(JOIN_ROOM, this.keys(e.id), [
      userId,
      randomBytes(16).toString('base64url'),
      ...this.clockArgs(e, room),
    ]);
    return view(e.id, token, pos, frontier, room.admitPerSecond);
  }

  async status(e: RoomEvent, token: string): Promise<QueueView> {
    const room = this.enabledRoom(e);
    const peek = await this.peek(e, room, token);
    if (!peek) throw new AppError('not_found', WaitingRoomCode.TokenNotFound, 'no such waiting-room token for this event');
    return view(e.id, token, peek.pos, peek.frontier, room.admitPerSecond);
  }

  /**
   * Gate of the hold path. No token → 403 (the request lacks a credential; retrying as is cannot
   * help). A token that is unknown here or issued to another user → 403. A valid token whose turn
   * has not come → 429 with Retry-After = the estimated wait: the client is asked to come back
   * later, which HTTP clients and SDKs already do for 429 + Retry-After.
   */
  async requireAdmitted(e: RoomEvent, token: string | undefined, userId: string): Promise<void> {
    const room = e.waitingRoom;
    if (!room?.enabled) return;
    if (!token) {
      throw new AppError('forbidden', WaitingRoomCode.TokenRequired, `this event has a waiting room: join POST /api/v1/events/${e.id}/queue and send the token in the Waiting-Room-Token header`);
    }
    const peek = await this.peek(e, room, token);
    if (!peek || peek.userId !== userId) {
      throw new AppError('forbidden', WaitingRoomCode.TokenInvalid, 'the waiting-room token is unknown for this event or belongs to another user');
    }
    const v = view(e.id, token, peek.pos, peek.frontier, room.admitPerSecond);
    if (!v.admitted) {
      throw new AppError('rate_limited', WaitingRoomCode.NotAdmitted, `not admitted yet: ${v.position} in line`, {
        position: v.position,
        estimatedWaitSeconds: v.estimatedWaitSeconds,
        retryAfterSeconds: Math.max(1, v.estimatedWaitSeconds),
      });
    }
  }

  /**
   * The line as a whole, for operators: how many joined, how many of them are admitted by now, and
   * the admission rate. Read-only: the gate is advanced as the scripts would, without storing it.
   */
  async line(e: RoomEvent): Promise<{ enabled: boolean; joined: number; admitted: number; waiting: number; admitPerSecond: number }> {
    const room = e.waitingRoom;
    if (!room?.enabled) return { enabled: false, joined: 0, admitted: 0, waiting: 0, admitPerSecond: 0 };
    const keys = this.keys(e.id);
    const [seq, gate] = await this.kv.mGet([keys[0], keys[4]]);
    const joined = Number(seq ?? 0);
    let frontier = room.admitPerSecond;
    if (gate) {
      const [f, last] = gate.split('|').map(Number);
      const from = Math.max(last, e.salesOpenAtMs ?? 0);
      const now = this.clock.now();
      frontier = now > from ? Math.min(f + ((now - from) * room.admitPerSecond) / 1000, Math.max(f, joined + room.admitPerSecond)) : f;
    }
    const admitted = Math.min(joined, Math.floor(frontier));
    return { enabled: true, joined, admitted, waiting: joined - admitted, admitPerSecond: room.admitPerSecond };
  }

  private async peek(e: RoomEvent, room: WaitingRoomConfig, token: string) {
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(token)) return undefined;
    const r = await this.kv.runScript(PEEK_ROOM, this.keys(e.id), [token, '', ...this.clockArgs(e, room)]);
    if (r[0] !== 'ok') return undefined;
    return { pos: Number(r[1]), frontier: Number(r[2]), userId: r[3] };
  }

  private enabledRoom(e: RoomEvent): WaitingRoomConfig {
    if (!e.waitingRoom?.enabled) throw new AppError('conflict', WaitingRoomCode.Disabled, `event ${e.id} has no waiting room`);
    return e.waitingRoom;
  }

  private clockArgs(e: RoomEvent, room: WaitingRoomConfig): (string | number)[] {
    const now = this.clock.now();
    const ttlMs = Math.max(0, e.startsAtMs - now) + 86_400_000;
    return [now, room.admitPerSecond, e.salesOpenAtMs ?? 0, ttlMs];
  }

  private keys(eventId: string): string[] {
    // The event's hash tag: the room scripts' keys stay in one Redis Cluster slot.
    const p = `${eventKeyPrefix(this.config.NAMESPACE, eventId)}:room`;
    return [`${p}:seq`, `${p}:queue`, `${p}:users`, `${p}:owners`, `${p}:gate`];
  }
}

function view(eventId: string, token: string, pos: number, frontier: number, rate: number): QueueView {
  const admitted = pos <= Math.floor(frontier);
  return {
    eventId,
    token,
    queueNumber: pos,
    position: admitted ? 0 : pos - Math.floor(frontier),
    admitted,
    estimatedWaitSeconds: admitted ? 0 : Math.ceil((pos - frontier) / rate),
    admitPerSecond: rate,
  };
}
