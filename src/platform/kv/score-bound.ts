/** Redis writes infinite scores as "inf"/"-inf", which Number() does not read. */
export function parseScore(text: string): number {
  const t = text.trim().toLowerCase();
  if (t === 'inf' || t === '+inf') return Infinity;
  if (t === '-inf') return -Infinity;
  return t === '' ? NaN : Number(t);
}

/** A score for the Redis wire: infinities spelled the way Redis reads them. */
export function scoreArg(score: number): string {
  return score === Infinity ? '+inf' : score === -Infinity ? '-inf' : String(score);
}
