import { ScoreBound } from './key-value-store.port';

/** Parses Redis score-bound syntax (5, '5', '(5', '-inf', '+inf') into a value and exclusivity. */
export function parseBound(bound: ScoreBound): { value: number; exclusive: boolean } {
  if (typeof bound === 'number') return { value: bound, exclusive: false };
  const exclusive = bound.startsWith('(');
  const value = parseScore(exclusive ? bound.slice(1) : bound);
  if (Number.isNaN(value)) throw new Error('ERR min or max is not a float');
  return { value, exclusive };
}

/** Redis writes infinite scores as "inf"/"-inf", which Number() does not read. */
export function parseScore(text: string): number {
  const t = text.trim().toLowerCase();
  if (t === 'inf' || t === '+inf') return Infinity;
  if (t === '-inf') return -Infinity;
  return t === '' ? NaN : Number(t);
}

/** Formats a bound for the Redis wire: keeps '(' and spells infinities the way Redis reads them. */
export function boundArg(bound: ScoreBound): string {
  if (typeof bound === 'string') return bound;
  return bound === Infinity ? '+inf' : bound === -Infinity ? '-inf' : String(bound);
}
