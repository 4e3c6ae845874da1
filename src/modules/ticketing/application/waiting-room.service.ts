import { Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { Clock } from '../../../platform/clock/clock';
import { TicketingCode as C, TicketingError } from '../ticketing.errors';
import { TicketedEvent, WaitingRoomConfig } from '../domain';
import { advancedGate, GateClock } from '../domain/waiting-room';
import { WaitingRoomStore } from '../ports/waiting-room-store.port';

/** What the room needs to know about an event. */
export type RoomEvent = Pick<TicketedEvent, 'id' | 'waitingRoom' | 'salesOpenAtMs' | 'startsAtMs'>;

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
    private readonly store: WaitingRoomStore,
    private readonly clock: Clock,
  ) {}

  async join(e: RoomEvent, userId: string): Promise<QueueView> {
    const room = this.enabledRoom(e);
    const { token, n, frontier } = await this.store.join(e.id, userId, randomBytes(16).toString('base64url'), this.gateClock(e, room));
    return view(e.id, token, n, frontier, room.admitPerSecond);
  }

  async status(e: RoomEvent, token: string): Promise<QueueView> {
    const room = this.enabledRoom(e);
    const peek = await this.peek(e, room, token);
    if (!peek) throw new TicketingError('not_found', C.WaitingRoomTokenNotFound, 'no such waiting-room token for this event');
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
      throw new TicketingError('forbidden', C.WaitingRoomTokenRequired, `this event has a waiting room: join POST /api/v1/events/${e.id}/queue and send the token in the Waiting-Room-Token header`);
    }
    const peek = await this.peek(e, room, token);
    if (!peek || peek.userId !== userId) {
      throw new TicketingError('forbidden', C.WaitingRoomTokenInvalid, 'the waiting-room token is unknown for this event or belongs to another user');
    }
    const v = view(e.id, token, peek.pos, peek.frontier, room.admitPerSecond);
    if (!v.admitted) {
      throw new TicketingError('rate_limited', C.WaitingRoomNotAdmitted, `not admitted yet: ${v.position} in line`, {
        position: v.position,
        estimatedWaitSeconds: v.estimatedWaitSeconds,
        retryAfterSeconds: Math.max(1, v.estimatedWaitSeconds),
      });
    }
  }

  /**
   * The line as a whole, for operators: how many joined, how many of them are admitted by now, and
   * the admission rate. Read-only: the gate is advanced as a join would (domain advancedGate), without storing it.
   */
  async line(e: RoomEvent): Promise<{ enabled: boolean; joined: number; admitted: number; waiting: number; admitPerSecond: number }> {
    const room = e.waitingRoom;
    if (!room?.enabled) return { enabled: false, joined: 0, admitted: 0, waiting: 0, admitPerSecond: 0 };
    const { joined, gate } = await this.store.line(e.id);
    const frontier = gate ? advancedGate(gate, joined, this.gateClock(e, room)).frontier : room.admitPerSecond;
    const admitted = Math.min(joined, Math.floor(frontier));
    return { enabled: true, joined, admitted, waiting: joined - admitted, admitPerSecond: room.admitPerSecond };
  }

  private async peek(e: RoomEvent, room: WaitingRoomConfig, token: string) {
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(token)) return undefined;
    const r = await this.store.peek(e.id, token, this.gateClock(e, room));
    return r && { pos: r.n, frontier: r.frontier, userId: r.userId };
  }

  private enabledRoom(e: RoomEvent): WaitingRoomConfig {
    if (!e.waitingRoom?.enabled) throw new TicketingError('conflict', C.WaitingRoomDisabled, `event ${e.id} has no waiting room`);
    return e.waitingRoom;
  }

  private gateClock(e: RoomEvent, room: WaitingRoomConfig): GateClock & { ttlMs: number } {
    const nowMs = this.clock.now();
    return { nowMs, rate: room.admitPerSecond, openAtMs: e.salesOpenAtMs ?? 0, ttlMs: Math.max(0, e.startsAtMs - nowMs) + 86_400_000 };
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
