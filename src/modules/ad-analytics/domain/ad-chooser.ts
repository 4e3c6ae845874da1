// Pure weighted random choice among the servable ads. The random source is injected (returns a float
// in [0, 1)), so the choice is deterministic under test.

export interface ServableAd {
  adId: string;
  campaignId: string;
  weight: number;
}

/**
 * O(log n) per serve: the ads with a positive weight and their cumulative weights, built once per
 * catalogue change. A draw r picks the first ad whose cumulative weight exceeds r × total weight.
 */
export class WeightedAdIndex<T extends ServableAd> {
  private readonly ads: T[] = [];
  private readonly cum: Float64Array;
  private readonly total: number;

  constructor(ads: readonly T[]) {
    for (const a of ads) if (a.weight > 0 && Number.isFinite(a.weight)) this.ads.push(a);
    this.cum = new Float64Array(this.ads.length);
    let t = 0;
    this.ads.forEach((a, i) => (this.cum[i] = t += a.weight));
    this.total = t;
  }

  pick(random: () => number): T | null {
    if (this.ads.length === 0) return null;
    const r = random() * this.total;
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
