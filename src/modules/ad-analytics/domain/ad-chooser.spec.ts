import { seededRandom } from '../../../platform/random/seeded-random';
import { ServableAd, WeightedAdIndex } from './ad-chooser';

const ad = (adId: string, weight: number): ServableAd => ({ adId, campaignId: 'c', weight });
const pick = (ads: ServableAd[], x: number) => new WeightedAdIndex(ads).pick(() => x)?.adId;

describe(WeightedAdIndex.name, () => {
  it('is empty when no ad has a positive, finite weight', () => {
    expect(pick([], 0.5)).toBeUndefined();
    expect(pick([ad('a', 0), ad('b', -1), ad('c', NaN)], 0.5)).toBeUndefined();
  });

  it('maps the draw onto cumulative weights, skipping ads without weight', () => {
    const ads = [ad('a', 1), ad('x', 0), ad('b', 3)];
    expect([0, 0.24, 0.25, 0.999999].map((x) => pick(ads, x))).toEqual(['a', 'a', 'b', 'b']);
  });

  it('picks with frequencies that follow the weights', () => {
    const sut = new WeightedAdIndex([ad('a', 1), ad('b', 2), ad('c', 7)]);
    const r = seededRandom(1);
    const n = 100_000;
    const counts: Record<string, number> = { a: 0, b: 0, c: 0 };
    for (let i = 0; i < n; i++) counts[sut.pick(r)!.adId]++;
    expect(counts.a / n).toBeCloseTo(0.1, 1);
    expect(counts.b / n).toBeCloseTo(0.2, 1);
    expect(counts.c / n).toBeCloseTo(0.7, 1);
  });
});
