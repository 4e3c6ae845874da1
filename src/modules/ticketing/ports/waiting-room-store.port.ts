import { GateClock } from '../domain/waiting-room';

/**
 * The waiting rooms' lines, each step atomic (domain/waiting-room.ts). Full profile: Redis, shared
 * by every API process; embedded profile: in-process, journaled in the key/value store.
 */
export abstract class WaitingRoomStore {
  /** The user's place in line (a new one under `freshToken` if none) and the gate now. */
  abstract join(eventId: string, userId: string, freshToken: string, c: GateClock & { ttlMs: number }): Promise<{ token: string; n: number; frontier: number }>;
  /** The token's place and user, and the gate now; undefined for a token unknown in this event's line. */
  abstract peek(eventId: string, token: string, c: GateClock & { ttlMs: number }): Promise<{ n: number; frontier: number; userId: string } | undefined>;
  /** Numbers handed out and the gate as last stored (read only). */
  abstract line(eventId: string): Promise<{ joined: number; gate: { frontier: number; lastMs: number } | null }>;
}
