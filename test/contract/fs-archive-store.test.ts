import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { rename } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FsArchiveStore } from '../../src/modules/ad-analytics/adapters/fs-archive-store';
import { LostPartition } from '../../src/modules/ad-analytics/ports/archive-store.port';
import { hourDir, parseDay, partFileName } from '../../src/modules/ad-analytics/domain';

const D = parseDay('2030-05-05')!;
const line = (o: number, ts: number, id = `i${o}`) =>
  JSON.stringify({ p: 0, o: String(o), t: 0, e: { type: 'impression', impressionId: id, adId: 'a', campaignId: 'c', ts } });

describe(FsArchiveStore.name, () => {
  let dir: string;
  let store: FsArchiveStore;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'archive-store-'));
    store = new FsArchiveStore(dir, 'ns.ads.events');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes one gzip file per hour folder, named by partition and first offset, then records the next offset', async () => {
    const cp = await store.recover(0);
    expect(cp).toEqual({ next: '0', epoch: 1, logId: '' });
    const h10 = hourDir(D + 10 * 3_600_000);
    const h11 = hourDir(D + 11 * 3_600_000);
    await store.flush(0, 1, '0', '3', new Map([[h10, [line(0, D + 10 * 3_600_000), line(2, D + 10 * 3_600_000 + 5)]], [h11, [line(1, D + 11 * 3_600_000)]]]));
    expect(await store.readCheckpoint(0)).toEqual({ next: '3', epoch: 1, logId: '' });
    expect(readdirSync(join(store.root, h10))).toEqual([partFileName(0, '0')]);
    const files = await store.filesForDay(D, 3_600_000);
    expect([...files.keys()]).toEqual(['/0']);
    const read = await Promise.all(files.get('/0')!.map((f) => store.readFile(f)));
    expect(read.flatMap((r) => r.records.map((x) => Number(x.offset))).sort()).toEqual([0, 1, 2]);
  });

  it('a flush renamed into place but not recorded (crash) is undone on recovery, so the rewrite adds no copy', async () => {
    await store.recover(0);
    const h = hourDir(D);
    await store.flush(0, 1, '0', '2', new Map([[h, [line(0, D), line(1, D)]]]));
    // Crash between the renames and the final checkpoint of the next flush [2, 4) over two folders.
    const h2 = hourDir(D + 3_600_000);
    await store.writeCheckpoint(0, { next: '2', epoch: 1, inflight: { firstOffset: '2', dirs: [h, h2] } });
    for (const d of [h, h2]) {
      const p = join(store.root, d);
      mkdirSync(p, { recursive: true });
      writeFileSync(join(p, partFileName(0, '2') + '.tmp'), 'partial');
      await rename(join(p, partFileName(0, '2') + '.tmp'), join(p, partFileName(0, '2')));
    }
    const cp = await store.recover(0);
    expect(cp).toEqual({ next: '2', epoch: 2, logId: '' });
    expect(existsSync(join(store.root, h, partFileName(0, '2')))).toBe(false);
    expect(existsSync(join(store.root, h2, partFileName(0, '2')))).toBe(false);
    expect(existsSync(join(store.root, h, partFileName(0, '0')))).toBe(true); // the recorded flush stays
  });

  it('a previous owner cannot flush once the partition was recovered by another (epoch fencing)', async () => {
    const a = await store.recover(0);
    const b = await store.recover(0); // the next owner after a rebalance
    const lines = new Map([[hourDir(D), [line(0, D)]]]);
    await expect(store.flush(0, a.epoch, '0', '1', lines)).rejects.toBeInstanceOf(LostPartition);
    await store.flush(0, b.epoch, '0', '1', lines);
    expect(await store.readCheckpoint(0)).toEqual({ next: '1', epoch: b.epoch, logId: '' });
  });

  it('a new incarnation of a restarting log (embedded profile) starts at offset 0 under its own names', async () => {
    const first = new FsArchiveStore(dir, 'ns.ads.events', 'run1');
    await first.recover(0);
    const h = hourDir(D);
    await first.flush(0, 1, '0', '2', new Map([[h, [line(0, D), line(1, D)]]]));
    const second = new FsArchiveStore(dir, 'ns.ads.events', 'run2');
    const cp = await second.recover(0);
    expect(cp).toEqual({ next: '0', epoch: 2, logId: 'run2' });
    await second.flush(0, cp.epoch, '0', '1', new Map([[h, [line(0, D, 'other')]]]));
    expect(readdirSync(join(store.root, h)).sort()).toEqual([partFileName(0, '0', 'run1'), partFileName(0, '0', 'run2')]);
    expect([...(await second.filesForDay(D, 0)).keys()].sort()).toEqual(['run1/0', 'run2/0']);
  });

  it('skips lines that are not events and ignores temporary files', async () => {
    await store.recover(0);
    const h = hourDir(D);
    await store.flush(0, 1, '0', '2', new Map([[h, [line(0, D), '{"p":0,"o":"1","raw":"garbage"}']]]));
    writeFileSync(join(store.root, h, partFileName(0, '2') + '.tmp'), 'torn');
    const files = (await store.filesForDay(D, 0)).get('/0')!;
    expect(files).toHaveLength(1);
    const r = await store.readFile(files[0]);
    expect(r.records).toHaveLength(1);
    expect(r.skipped).toBe(1);
  });
});
