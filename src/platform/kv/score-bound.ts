import { ZMember } from './key-value-store.port';

/** Redis writes infinite scores as "inf"/"-inf", which Number() does not read. */
export function parseScore(text: string): number {
  const t = text.trim().toLowerCase();
  if (t === 'inf' || t === '+inf') return Infinity;
  if (t === '-inf') return -Infinity;
  return t === '' ? NaN : Number(t);
}

/** A WITHSCORES reply, [member, score, member, score, ...], as entries. */
export function pairs(flat: string[]): ZMember[] {
  const out: ZMember[] = [];
  for (let i = 0; i < flat.length; i += 2) out.push({ member: flat[i], score: parseScore(flat[i + 1]) });
  return out;
}
