/** Redis writes infinite scores as "inf"/"-inf", which Number() does not read. */
export function parseScore(text: string): number {
  const t = text.trim().toLowerCase();
  if (t === 'inf' || t === '+inf') return Infinity;
  if (t === '-inf') return -Infinity;
  return t === '' ? NaN : Number(t);
}
