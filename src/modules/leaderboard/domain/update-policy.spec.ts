import { applyUpdate, incrementDedupeKey, isBetter, planScoreUpdate, ScoreOutOfRangeError } from './update-policy';
import { decodeMember, encodeMember } from './member-encoding';

describe(applyUpdate.name, () => {
  const sut = applyUpdate;

  describe('overwrite', () => {
    it('replaces, changed only when different', () => {
      expect(sut('overwrite', 'desc', 10, 5)).toEqual({ score: 5, changed: true });
      expect(sut('overwrite', 'desc', 5, 5)).toEqual({ score: 5, changed: false });
      expect(sut('overwrite', 'asc', undefined, 0)).toEqual({ score: 0, changed: true });
    });
  });

  describe('best', () => {
    it('desc keeps the max', () => {
      expect(sut('best', 'desc', 10, 5)).toEqual({ score: 10, changed: false });
      expect(sut('best', 'desc', 10, 11)).toEqual({ score: 11, changed: true });
      expect(sut('best', 'desc', 10, 10)).toEqual({ score: 10, changed: false });
    });
    it('asc keeps the min', () => {
      expect(sut('best', 'asc', 10, 5)).toEqual({ score: 5, changed: true });
      expect(sut('best', 'asc', 10, 11)).toEqual({ score: 10, changed: false });
    });
    it('first score is always taken', () => {
      expect(sut('best', 'asc', undefined, -3)).toEqual({ score: -3, changed: true });
    });
  });

  describe('increment', () => {
    it('adds to the old score, starting from 0', () => {
      expect(sut('increment', 'desc', undefined, 5)).toEqual({ score: 5, changed: true });
      expect(sut('increment', 'desc', 5, -2)).toEqual({ score: 3, changed: true });
      expect(sut('increment', 'desc', 5, 0)).toEqual({ score: 5, changed: false });
      expect(sut('increment', 'desc', undefined, 0)).toEqual({ score: 0, changed: true });
    });
    it('rejects overflow past safe integers', () => {
      expect(() => sut('increment', 'desc', Number.MAX_SAFE_INTEGER, 1)).toThrow(ScoreOutOfRangeError);
    });
  });

  it('rejects invalid incoming scores', () => {
    expect(() => sut('overwrite', 'desc', 1, 1.5)).toThrow(ScoreOutOfRangeError);
    expect(() => sut('best', 'desc', 1, NaN)).toThrow(ScoreOutOfRangeError);
  });
});

describe(isBetter.name, () => {
  it('is strict', () => {
    expect(isBetter('desc', 2, 1)).toBe(true);
    expect(isBetter('asc', 1, 2)).toBe(true);
    expect(isBetter('asc', 1, 1)).toBe(false);
  });
});

describe(incrementDedupeKey.name, () => {
  it('is deterministic, scoped by board and player, hash-tagged by board', () => {
    const sut = incrementDedupeKey;
    expect(sut('b1', 'p1', 'm1')).toBe(sut('b1', 'p1', 'm1'));
    expect(sut('b1', 'p1', 'm1')).not.toBe(sut('b2', 'p1', 'm1'));
    expect(sut('b1', 'p1', 'm1')).not.toBe(sut('b1', 'p2', 'm1'));
    expect(sut('b1', 'p1', 'm1')).toContain('{b1}');
    expect(() => sut('b1', 'p1', '')).toThrow(RangeError);
  });
});

describe(planScoreUpdate.name, () => {
  const sut = planScoreUpdate;
  const desc = { order: 'desc' as const, updatePolicy: 'best' as const };

  it('new player: writes score with a member at seq', () => {
    expect(sut(desc, 'p', undefined, 10, 7)).toEqual({ score: 10, member: encodeMember('desc', 7, 'p'), changed: true });
  });

  it('worse or equal score under best: no change, member kept', () => {
    const old = { score: 10, member: encodeMember('desc', 7, 'p') };
    expect(sut(desc, 'p', old, 9, 8)).toEqual({ score: 10, member: old.member, changed: false });
    expect(sut(desc, 'p', old, 10, 8)).toEqual({ score: 10, member: old.member, changed: false });
  });

  it('overwrite with the same score keeps the original time', () => {
    const old = { score: 10, member: encodeMember('asc', 7, 'p') };
    expect(sut({ order: 'asc', updatePolicy: 'overwrite' }, 'p', old, 10, 99)).toEqual({ score: 10, member: old.member, changed: false });
  });

  it('better score: new member, old one removed', () => {
    const old = { score: 10, member: encodeMember('desc', 7, 'p') };
    const plan = sut(desc, 'p', old, 11, 8);
    expect(plan).toEqual({ score: 11, member: encodeMember('desc', 8, 'p'), changed: true, removeMember: old.member });
    expect(decodeMember('desc', plan.member).seq).toBe(8);
  });

  it('increment by zero keeps the member', () => {
    const old = { score: 10, member: encodeMember('desc', 7, 'p') };
    expect(sut({ order: 'desc', updatePolicy: 'increment' }, 'p', old, 0, 9).changed).toBe(false);
  });
});
