import { SortOrder, UpdatePolicy } from './board-config';
import { applyScoreWrite, isRedelivery, PlayerRecord, removePlayer, ScoreWrite } from './update-policy';

describe('update policies (applyScoreWrite)', () => {
  /** The score a write of `incoming` leaves on a record holding `old`, or the outcome when not applied. */
  const sut = (updatePolicy: UpdatePolicy, order: SortOrder, old: number | undefined, incoming: number) => {
    const rec: PlayerRecord = old === undefined ? {} : { score: old, seq: 1 };
    const outcome = applyScoreWrite({ order, updatePolicy }, rec, { playerId: 'p', score: incoming, messageId: 'm', seq: 2, position: '0:1' }, () => true);
    return outcome === 'applied' ? { score: rec.score, changed: rec.seq === 2 } : outcome;
  };

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
      expect(sut('increment', 'desc', Number.MAX_SAFE_INTEGER, 1)).toBe('rejected');
    });
  });

  it('rejects invalid incoming scores', () => {
    expect(sut('overwrite', 'desc', 1, 1.5)).toBe('rejected');
    expect(sut('best', 'desc', 1, NaN)).toBe('rejected');
  });
});

describe(isRedelivery.name, () => {
  const sut = isRedelivery;
  it('is a position at or before the last applied one on the same partition', () => {
    expect(sut('3:10', '3:10')).toBe(true);
    expect(sut('3:10', '3:9')).toBe(true);
    expect(sut('3:10', '3:11')).toBe(false);
    expect(sut('3:10', '4:1')).toBe(false);
    expect(sut(undefined, '3:1')).toBe(false);
  });
});

describe(applyScoreWrite.name, () => {
  const sut = applyScoreWrite;
  const board = { order: 'desc' as const, updatePolicy: 'best' as const };
  const w = (over: Partial<ScoreWrite>): ScoreWrite => ({ playerId: 'p', score: 10, messageId: 'm', seq: 5, position: '0:1', ...over });
  const never = () => {
    throw new Error('a write from the log with a generated id claims no id');
  };

  it('keeps the seq of an unchanged score and takes the seq of a changed one', () => {
    const rec: PlayerRecord = {};
    expect(sut(board, rec, w({}), never)).toBe('applied');
    expect(sut(board, rec, w({ score: 10, seq: 9, position: '0:2' }), never)).toBe('applied');
    expect(rec).toEqual({ score: 10, seq: 5, position: '0:2' });
    expect(sut(board, rec, w({ score: 11, seq: 12, position: '0:3', metadata: { a: 1 } }), never)).toBe('applied');
    expect(rec).toEqual({ score: 11, seq: 12, position: '0:3', metadata: '{"a":1}' });
  });

  it('drops a redelivery by position and a replayed caller-chosen id, and claims ids only when needed', () => {
    const rec: PlayerRecord = { score: 1, seq: 1, position: '0:7' };
    expect(sut({ order: 'desc', updatePolicy: 'increment' }, rec, w({ position: '0:7' }), never)).toBe('duplicate');
    let claims = 0;
    expect(sut({ order: 'desc', updatePolicy: 'increment' }, rec, w({ position: '0:8', keyed: true }), () => claims++ === 0)).toBe('applied');
    expect(sut({ order: 'desc', updatePolicy: 'increment' }, rec, w({ position: '1:1', keyed: true }), () => claims++ === 0)).toBe('duplicate');
    expect(rec.score).toBe(11);
  });

  it('answers stale at or before the tombstone, rejected on overflow', () => {
    expect(sut(board, { tombstone: 5 }, w({ seq: 5 }), never)).toBe('stale');
    expect(sut(board, { tombstone: 5 }, w({ seq: 6 }), never)).toBe('applied');
    const rec: PlayerRecord = { score: Number.MAX_SAFE_INTEGER, seq: 1 };
    expect(sut({ order: 'desc', updatePolicy: 'increment' }, rec, w({ score: 1 }), never)).toBe('rejected');
    expect(rec.position).toBe('0:1');
  });
});

describe(removePlayer.name, () => {
  it('raises the tombstone even without an entry, never lowers it', () => {
    const rec: PlayerRecord = {};
    expect(removePlayer(rec, 5)).toBe(false);
    expect(rec).toEqual({ tombstone: 5 });
    Object.assign(rec, { score: 3, seq: 6, metadata: '{}', position: '0:1' });
    expect(removePlayer(rec, 4)).toBe(true);
    expect(rec).toEqual({ tombstone: 5, position: '0:1' });
  });
});
