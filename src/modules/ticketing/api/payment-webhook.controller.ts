import { Headers, Req } from '@nestjs/common';
import { ApiBody, ApiHeader } from '@nestjs/swagger';
import { RawBodyRequest, SignedBody } from '../../../platform/http/body-parsers';
import { ApiController, Endpoint } from '../../../platform/openapi';
import { PaymentWebhookService } from '../application/payment-webhook.service';
import { PaymentWebhookEvent, WebhookReceived } from './ticketing.responses';

/**
 * No API key: the provider authenticates with an HMAC signature over the exact bytes received,
 * sent as application/json or text/plain.
 */
@ApiController('ticketing', 'api/v1/payments')
export class PaymentWebhookController {
  constructor(private readonly webhooks: PaymentWebhookService) {}

  @ApiHeader({
    name: 'Tetrad-Signature',
    required: true,
    description: '`t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">` with a webhook secret; several v1 entries allowed (rotation)',
  })
  @ApiBody({ type: PaymentWebhookEvent })
  @Endpoint('POST webhook', 'public', 'Payment provider webhook', {
    requestExample: { id: 'evt_1', type: 'payment.succeeded', orderId: '01a22c8d-ff03-70b9-847b-58d49a0e2dd1', reference: 'ch_1' },
    description: 'The provider reports a payment outcome. No API key: the HMAC signature over the body authenticates it, within 5 minutes, once per event id.',
    responses: [{ status: 200, description: 'recorded', type: WebhookReceived, example: { received: true, orderId: '01a22c8d-ff03-70b9-847b-58d49a0e2dd1', applied: true } }],
    errors: [400, 415, 429],
    errorNotes: { 401: 'bad, stale or replayed signature (`bad_signature`)', 404: 'unknown order' },
  })
  @SignedBody()
  receive(@Req() req: RawBodyRequest, @Headers('tetrad-signature') signature?: string) {
    return this.webhooks.handle(req.rawBody ?? Buffer.alloc(0), signature);
  }
}
