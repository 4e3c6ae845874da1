/**
 * One event's waiting room: numbers handed out in order, each bound to a token and its user, and a
 * gate `frontier` (numbers <= floor(frontier) are admitted) advanced lazily by whoever calls, from
 * the clock: frontier += elapsed × rate, counted only from salesOpenAt, and capped at
 * (last number + rate) so an idle room banks at most one second of admissions (the next `rate`
 * arrivals walk straight in, then `rate` per second). These are the rules in TypeScript (the
 * in-process adapter runs them); the Redis adapter runs the same as Lua.
 */
export interface RoomState {
  /** The last number handed out. */
  last: number;
  /** token → number and user. */
  tokens: Map<string, { n: number; userId: string }>;
  /** userId → token (one place in line per user). */
  byUser: Map<string, string>;
  gate: { frontier: number; lastMs: number } | null;
}

export interface GateClock {
  nowMs: number;
  rate: number;
  openAtMs: number;
}

/** The gate moved on to `nowMs` (pure; rounded to the millisecond as the Lua twin rounds). */
export function advancedGate(gate: RoomState['gate'], last: number, c: GateClock): { frontier: number; lastMs: number } {
  let f = gate?.frontier ?? c.rate;
  let lastMs = gate?.lastMs ?? c.nowMs;
  const from = Math.max(lastMs, c.openAtMs);
  if (c.nowMs > from) f = Math.min(f + ((c.nowMs - from) * c.rate) / 1000, Math.max(f, last + c.rate));
  if (c.nowMs > lastMs) lastMs = c.nowMs;
  return { frontier: Number(f.toFixed(3)), lastMs };
}

/** Joins (or re-finds) the user's place; the gate advances first, so the cap counts the line as it was. */
export function joinRoom(s: RoomState, userId: string, freshToken: string, c: GateClock): { token: string; n: number; frontier: number } {
  s.gate = advancedGate(s.gate, s.last, c);
  let token = s.byUser.get(userId);
  if (token === undefined) {
    token = freshToken;
    s.tokens.set(token, { n: ++s.last, userId });
    s.byUser.set(userId, token);
  }
  return { token, n: s.tokens.get(token)!.n, frontier: s.gate.frontier };
}

/** Looks a token up (undefined: unknown here), advancing the gate. */
export function peekRoom(s: RoomState, token: string, c: GateClock): { n: number; frontier: number; userId: string } | undefined {
  const t = s.tokens.get(token);
  if (!t) return undefined;
  s.gate = advancedGate(s.gate, s.last, c);
  return { n: t.n, frontier: s.gate.frontier, userId: t.userId };
}
