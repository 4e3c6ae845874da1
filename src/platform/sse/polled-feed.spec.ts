import { Logger } from '@nestjs/common';
import { PolledFeeds } from './polled-feed';

const until = async (ok: () => boolean) => {
  for (let i = 0; i < 400 && !ok(); i++) await new Promise((r) => setTimeout(r, 5));
  if (!ok()) throw new Error('condition not reached');
};

describe('PolledFeeds', () => {
  let feeds: PolledFeeds<{ v: number }>;
  beforeEach(() => (feeds = new PolledFeeds('test-feed', 5)));
  afterEach(() => feeds.close());

  it('shares one loader per key among subscribers and pushes only values that changed', async () => {
    let value = 1;
    let loads = 0;
    const load = async () => (loads++, { v: value });
    const a: number[] = [];
    const b: number[] = [];
    const stopA = feeds.subscribe('k', load, (x) => a.push(x.v));
    await until(() => a.length === 1);
    const stopB = feeds.subscribe('k', load, (x) => b.push(x.v));
    expect(b).toEqual([1]); // the latest value at once
    const before = loads;
    await until(() => loads >= before + 5);
    expect([a, b]).toEqual([[1], [1]]); // polled again and again, nothing new sent
    value = 2;
    await until(() => a.length === 2 && b.length === 2);
    expect([a, b]).toEqual([
      [1, 2],
      [1, 2],
    ]);
    expect(feeds.size).toBe(1);
    stopA();
    expect(feeds.size).toBe(1);
    stopB();
    expect(feeds.size).toBe(0);
    const stopped = loads;
    await new Promise((r) => setTimeout(r, 50));
    expect(loads).toBeLessThanOrEqual(stopped + 1); // at most the poll already in flight
  });

  it('keeps polling after a failed load, warns once per streak, and delivers once the loader recovers', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const info = jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    let fail = true;
    const got: number[] = [];
    const stop = feeds.subscribe('k', async () => {
      if (fail) throw new Error('store down');
      return { v: 7 };
    }, (x) => got.push(x.v));
    await new Promise((r) => setTimeout(r, 30));
    expect(got).toEqual([]);
    fail = false;
    await until(() => got.length === 1);
    expect(got).toEqual([7]);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(info).toHaveBeenCalledWith('poll recovered');
    stop();
    warn.mockRestore();
    info.mockRestore();
  });
});

describe('PolledFeeds.close', () => {
  it('ends every open subscriber (so the server can close) and stops polling', async () => {
    const feeds = new PolledFeeds<number>('test-feed', 5);
    const ended: string[] = [];
    let loads = 0;
    feeds.subscribe('a', async () => ++loads, () => undefined, () => ended.push('a'));
    feeds.subscribe('b', async () => 1, () => undefined, () => ended.push('b'));
    const stopC = feeds.subscribe('b', async () => 1, () => undefined, () => ended.push('c'));
    stopC(); // unsubscribed before shutdown: not ended again
    feeds.close();
    expect(ended.sort()).toEqual(['a', 'b']);
    expect(feeds.size).toBe(0);
    const after = loads;
    await new Promise((r) => setTimeout(r, 30));
    expect(loads).toBeLessThanOrEqual(after + 1);
  });
});
