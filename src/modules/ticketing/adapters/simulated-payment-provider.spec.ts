import { MemoryKeyValueStore } from '../../../platform/kv/memory-key-value-store';
import { SimulatedPaymentProvider } from './simulated-payment-provider';

describe(SimulatedPaymentProvider.name, () => {
  const req = (orderId: string, paymentMethod = 'card') => ({ orderId, amountCents: 1250, paymentMethod, idempotencyKey: orderId });
  let kv: MemoryKeyValueStore;
  let sut: SimulatedPaymentProvider;

  beforeEach(() => {
    kv = new MemoryKeyValueStore();
    sut = new SimulatedPaymentProvider(kv, 'ns:simpay');
  });
  afterEach(() => kv.close());
  /** The provider's ledger entry, read as the crash test reads it. */
  const payment = async (key: string) => JSON.parse((await kv.get(`ns:simpay:${key}`)) ?? 'null');

  it('captures once per idempotency key and answers a retry with the same result', async () => {
    const first = await sut.charge(req('o1'));
    expect(first).toEqual({ status: 'approved', reference: expect.stringMatching(/^sim_/) });
    expect(await sut.charge(req('o1'))).toEqual(first);
    expect(await payment('o1')).toMatchObject({ orderId: 'o1', amountCents: 1250, status: 'captured' });
  });

  it('records the charge before answering: a second provider instance (another process) sees it', async () => {
    await sut.charge(req('o2'));
    const other = new SimulatedPaymentProvider(kv, 'ns:simpay');
    expect(await other.charge(req('o2', 'decline'))).toMatchObject({ status: 'approved' });
  });

  it('void refunds a captured charge, and fences a key never charged so a later charge is declined', async () => {
    await sut.charge(req('o3'));
    expect(await sut.void('o3', 'o3')).toBe('refunded');
    expect(await sut.void('o3', 'o3')).toBe('refunded'); // idempotent
    expect(await payment('o3')).toMatchObject({ status: 'refunded' });
    expect(await sut.void('o4', 'o4')).toBe('voided');
    expect(await sut.charge(req('o4'))).toEqual({ status: 'declined', reason: 'payment_voided' });
    expect(await payment('o4')).toMatchObject({ status: 'voided' });
  });

  it('scripted methods: decline, flaky (fails the first try only), error, async', async () => {
    expect(await sut.charge(req('d', 'decline'))).toEqual({ status: 'declined', reason: 'card_declined' });
    await expect(sut.charge(req('f', 'flaky'))).rejects.toThrow('simulated timeout');
    expect(await sut.charge(req('f', 'flaky'))).toMatchObject({ status: 'approved' });
    await expect(sut.charge(req('e', 'error'))).rejects.toThrow('simulated provider outage');
    expect(await payment('e')).toBeNull();
    expect(await sut.charge(req('a', 'async'))).toMatchObject({ status: 'pending' });
    expect(await sut.void('a', 'a')).toBe('voided');
  });
});
