import { createHmac } from 'node:crypto';
import { parseSignatureHeader, verifyWebhook } from './webhook-signature';
import { signWebhook } from '../../../../test/support/ticketing';

const secret = 'whsec_test';
const body = '{"type":"payment.succeeded","id":"evt_1"}';
const now = 1_800_000_000;

describe(signWebhook.name, () => {
  it('produces t=<ts>,v1=<hmac-sha256 of "ts.body">', () => {
    const expected = createHmac('sha256', secret).update(`${now}.${body}`).digest('hex');
    expect(signWebhook(secret, body, now)).toBe(`t=${now},v1=${expected}`);
    expect(signWebhook(secret, Buffer.from(body), now)).toBe(signWebhook(secret, body, now));
  });
});

describe(parseSignatureHeader.name, () => {
  it('parses multiple signatures and rejects junk', () => {
    const a = 'a'.repeat(64);
    const b = 'b'.repeat(64);
    expect(parseSignatureHeader(`t=5,v1=${a},v0=zzz,v1=${b}`)).toEqual({ timestamp: 5, signatures: [a, b] });
    expect(parseSignatureHeader(`v1=${a}`)).toBeUndefined();
    expect(parseSignatureHeader('t=5')).toBeUndefined();
    expect(parseSignatureHeader(`t=x,v1=${a}`)).toBeUndefined();
    expect(parseSignatureHeader(`t=1,t=2,v1=${a}`)).toBeUndefined();
    expect(parseSignatureHeader('garbage')).toBeUndefined();
  });
});

describe(verifyWebhook.name, () => {
  const sut = verifyWebhook;
  const header = signWebhook(secret, body, now);

  it('accepts a valid signature within tolerance', () => {
    const r = sut({ secrets: [secret], payload: body, header, nowSec: now + 300 });
    expect(r).toMatchObject({ ok: true, timestamp: now, replayTtlSeconds: 600 });
  });

  it('rejects outside the tolerance window, both directions', () => {
    expect(sut({ secrets: [secret], payload: body, header, nowSec: now + 301 })).toEqual({ ok: false, reason: 'TIMESTAMP_OUT_OF_TOLERANCE' });
    expect(sut({ secrets: [secret], payload: body, header, nowSec: now - 301 })).toEqual({ ok: false, reason: 'TIMESTAMP_OUT_OF_TOLERANCE' });
    expect(sut({ secrets: [secret], payload: body, header, nowSec: now + 300 }).ok).toBe(true);
  });

  it('rejects a tampered body, wrong secret, or a re-stamped timestamp', () => {
    expect(sut({ secrets: [secret], payload: body + ' ', header, nowSec: now })).toEqual({ ok: false, reason: 'BAD_SIGNATURE' });
    expect(sut({ secrets: ['other'], payload: body, header, nowSec: now })).toEqual({ ok: false, reason: 'BAD_SIGNATURE' });
    const restamped = header.replace(`t=${now}`, `t=${now + 1}`);
    expect(sut({ secrets: [secret], payload: body, header: restamped, nowSec: now })).toEqual({ ok: false, reason: 'BAD_SIGNATURE' });
  });

  it('rejects a missing or malformed header', () => {
    expect(sut({ secrets: [secret], payload: body, header: undefined, nowSec: now })).toEqual({ ok: false, reason: 'MALFORMED_HEADER' });
  });

  it('supports secret rotation', () => {
    expect(sut({ secrets: ['old', secret], payload: body, header, nowSec: now }).ok).toBe(true);
  });

  it('uses the event id as replay key when given, else a signature hash', () => {
    const withId = sut({ secrets: [secret], payload: body, header, nowSec: now, eventId: 'evt_1' });
    expect(withId.ok && withId.replayKey).toBe('evt:evt_1');
    const a = sut({ secrets: [secret], payload: body, header, nowSec: now });
    const b = sut({ secrets: [secret], payload: body, header, nowSec: now + 1 });
    expect(a.ok && b.ok && a.replayKey === b.replayKey).toBe(true);
  });
});
