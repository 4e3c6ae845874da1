// Pure weighted random choice among active ads for serving. The random source is injected
// (returns a float in [0, 1)), so the choice is deterministic under test.

export interface ServableAd {
  adId: string;
  campaignId: string;
  weight: number;
  active: boolean;
}

export function chooseAd<T extends ServableAd>(ads: readonly T[], random: () => number): T | null {
  let total = 0;
  for (const a of ads) if (a.active && a.weight > 0 && Number.isFinite(a.weight)) total += a.weight;
  if (total <= 0) return null;
  let r = random() * total;
  let last: T | null = null;
  for (const a of ads) {
    if (!(a.active && a.weight > 0 && Number.isFinite(a.weight))) continue;
    last = a;
    if (r < a.weight) return a;
    r -= a.weight;
  }
  return last; // floating-point remainder: fall back to the last eligible ad
}
