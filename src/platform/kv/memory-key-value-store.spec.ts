import { MemoryKeyValueStore } from './memory-key-value-store';

describe('MemoryKeyValueStore expiry sweep', () => {
  it('drops expired keys nobody reads, and close() stops the timer', async () => {
    const store = new MemoryKeyValueStore(20);
    await store.set('a', '1', { ttlMs: 10 });
    await store.hSet('h', { m: 1 });
    await store.pExpire('h', 10);
    await store.set('kept', '1');
    // Peek at the raw map: any read would expire lazily and hide whether the sweep ran.
    const data = (store as unknown as { ops: { data: Map<string, unknown> } }).ops.data;
    await new Promise((r) => setTimeout(r, 80));
    expect([...data.keys()]).toEqual(['kept']);
    store.close();
    store.close(); // idempotent
  });
});
