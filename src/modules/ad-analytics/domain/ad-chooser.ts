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

/**
 * The same choice in O(log n) per serve: eligible ads with their cumulative weights, built once per
 * catalogue change. `pick` maps a draw exactly as chooseAd does (same ad for the same random value).
 */
export class WeightedAdIndex<T extends ServableAd> {
  private readonly ads: T[] = [];
  private readonly cum: Float64Array;
  readonly total: number;

  constructor(ads: readonly T[]) {
    for (const a of ads) if (a.active && a.weight > 0 && Number.isFinite(a.weight)) this.ads.push(a);
    this.cum = new Float64Array(this.ads.length);
    let t = 0;
    this.ads.forEach((a, i) => (this.cum[i] = t += a.weight));
    this.total = t;
  }

  get size(): number {
    return this.ads.length;
  }

  pick(random: () => number): T | null {
    if (this.ads.length === 0) return null;
    const r = random() * this.total;
    // first index whose cumulative weight exceeds r (chooseAd's `r < weight` walk)
    let lo = 0;
    let hi = this.ads.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.cum[mid] > r) hi = mid;
      else lo = mid + 1;
    }
    return this.ads[lo];
  }
}
