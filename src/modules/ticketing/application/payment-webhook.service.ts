import { Injectable } from '@nestjs/common';
import { Clock } from '../../../platform/clock/clock';
import { malformedTextFields } from '../../../platform/http/well-formed-text';
import { KeyValueStore } from '../../../platform/kv/key-value-store.port';
import { verifyWebhook } from '../domain';
import { TicketingCode as C, TicketingError } from '../ticketing.errors';
import { TicketingConfig } from '../ticketing.config';
import { OrdersService } from './orders.service';

export interface PaymentWebhookEvent {
  id: string;
  type: 'payment.succeeded' | 'payment.failed';
  orderId: string;
  reference?: string;
  reason?: string;
}

/**
 * Payment-provider webhooks: `Tetrad-Signature: t=<unix s>,v1=<hex HMAC-SHA256 of "<t>.<body>">`,
 * secrets from TICKETING_WEBHOOK_SECRETS (comma-separated, for rotation; without it the embedded
 * profile's config holds `dev-webhook-secret`). A delivery outside ±300 s, with a bad signature, or seen
 * before (replay key kept in the key/value store) is 401. Order updates are idempotent.
 */
@Injectable()
export class PaymentWebhookService {
  private readonly secrets: string[];

  constructor(
    private readonly orders: OrdersService,
    private readonly kv: KeyValueStore,
    private readonly clock: Clock,
    private readonly config: TicketingConfig,
  ) {
    this.secrets = (config.TICKETING_WEBHOOK_SECRETS ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  }

  async handle(raw: Buffer, header: string | undefined): Promise<{ received: true; orderId: string; applied: boolean }> {
    const nowSec = Math.floor(this.clock.now() / 1000);
    const event = parse(raw);
    const v = verifyWebhook({ secrets: this.secrets, payload: raw, header, nowSec, eventId: event?.id });
    if (!v.ok) throw new TicketingError('unauthenticated', C.BadSignature, `webhook rejected: ${v.reason.toLowerCase()}`);
    const fresh = await this.kv.set(`${this.config.NAMESPACE}:ticketing:webhook:${v.replayKey}`, String(nowSec), {
      onlyIfAbsent: true,
      ttlMs: v.replayTtlSeconds * 1000,
    });
    if (!fresh) throw new TicketingError('unauthenticated', C.BadSignature, 'webhook rejected: replayed delivery');
    if (!event) throw new TicketingError('invalid', C.InvalidWebhookBody, 'webhook body must be {id, type, orderId, reference?, reason?}');
    await this.orders.getOrder(event.orderId); // 404 for an unknown order
    const applied =
      event.type === 'payment.succeeded'
        ? await this.orders.confirmOrder(event.orderId, event.reference ?? event.id)
        : await this.orders.failOrder(event.orderId, event.reason ?? 'payment_failed');
    return { received: true, orderId: event.orderId, applied };
  }
}

function parse(raw: Buffer): PaymentWebhookEvent | undefined {
  let v: unknown;
  try {
    v = JSON.parse(raw.toString('utf8'));
  } catch {
    return undefined;
  }
  const o = v as Record<string, unknown>;
  if (!o || typeof o !== 'object' || typeof o.id !== 'string' || typeof o.orderId !== 'string') return undefined;
  if (o.type !== 'payment.succeeded' && o.type !== 'payment.failed') return undefined;
  if (o.reference !== undefined && typeof o.reference !== 'string') return undefined;
  if (o.reason !== undefined && typeof o.reason !== 'string') return undefined;
  // A text/plain delivery skips the platform's JSON text check; its strings reach SQL all the same.
  if (malformedTextFields(o, '').length > 0) return undefined;
  return { id: o.id, type: o.type, orderId: o.orderId, reference: o.reference as string | undefined, reason: o.reason as string | undefined };
}
