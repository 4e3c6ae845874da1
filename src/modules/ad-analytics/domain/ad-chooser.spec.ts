import { chooseAd, ServableAd, WeightedAdIndex } from './ad-chooser';

const ad = (adId: string, weight: number, active = true): ServableAd => ({ adId, campaignId: 'c', weight, active });

describe('chooseAd', () => {
  it('returns null when nothing is active or weights are zero', () => {
    expect(chooseAd([], () => 0.5)).toBeNull();
    expect(chooseAd([ad('a', 1, false), ad('b', 0)], () => 0.5)).toBeNull();
  });
  it('maps the random draw onto cumulative weights, skipping inactive ads', () => {
    const ads = [ad('a', 1), ad('x', 100, false), ad('b', 3)];
    expect(chooseAd(ads, () => 0)!.adId).toBe('a');
    expect(chooseAd(ads, () => 0.24)!.adId).toBe('a');
    expect(chooseAd(ads, () => 0.25)!.adId).toBe('b');
    expect(chooseAd(ads, () => 0.999999)!.adId).toBe('b');
  });
  it('frequencies follow weights', () => {
    let s = 1;
    const r = () => { s = (s * 16807) % 2147483647; return (s - 1) / 2147483646; };
    const ads = [ad('a', 1), ad('b', 2), ad('c', 7)];
    const n = 100_000; const counts: Record<string, number> = { a: 0, b: 0, c: 0 };
    for (let i = 0; i < n; i++) counts[chooseAd(ads, r)!.adId]++;
    expect(counts.a / n).toBeCloseTo(0.1, 1);
    expect(counts.b / n).toBeCloseTo(0.2, 1);
    expect(counts.c / n).toBeCloseTo(0.7, 1);
  });
});

describe('WeightedAdIndex', () => {
  it('picks exactly what chooseAd picks for the same draw', () => {
    let s = 7;
    const r = () => { s = (s * 16807) % 2147483647; return (s - 1) / 2147483646; };
    const ads = Array.from({ length: 300 }, (_, i) => ad(`a${i}`, i % 7 === 0 ? 0 : (i * 37) % 11 + 0.5, i % 5 !== 0));
    const index = new WeightedAdIndex(ads);
    for (let i = 0; i < 20_000; i++) {
      const x = r();
      expect(index.pick(() => x)).toBe(chooseAd(ads, () => x));
    }
    for (const x of [0, 0.999999999]) expect(index.pick(() => x)).toBe(chooseAd(ads, () => x));
  });
  it('is empty when nothing is eligible', () => {
    expect(new WeightedAdIndex([ad('a', 0), ad('b', 1, false)]).pick(() => 0.5)).toBeNull();
  });
});
