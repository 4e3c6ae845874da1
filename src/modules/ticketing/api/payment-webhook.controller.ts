import { Body, Controller, Headers, HttpCode, Post } from '@nestjs/common';
import { ApiBody, ApiHeader, ApiTags } from '@nestjs/swagger';
import { Public } from '../../../platform/auth/roles.decorator';
import { ApiContract } from '../../../platform/openapi';
import { PaymentWebhookService } from '../ticketing.webhook';
import { PaymentWebhookEvent, WebhookReceived } from './ticketing.responses';

/**
 * No API key: the provider authenticates with an HMAC signature. The signature covers the exact
 * body: sent as text/plain it is checked byte for byte; sent as application/json it is checked
 * against the compact re-serialization (JSON.stringify) of the parsed body.
 */
@ApiTags('ticketing')
@Controller('api/v1/payments')
export class PaymentWebhookController {
  constructor(private readonly sut: PaymentWebhookService) {}

  @ApiHeader({
    name: 'Tetrad-Signature',
    required: true,
    description: '`t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">` with a webhook secret; several v1 entries allowed (rotation)',
  })
  @ApiBody({ type: PaymentWebhookEvent })
  @ApiContract({
    summary: 'Payment provider webhook',
    description: 'The provider reports a payment outcome. No API key: the HMAC signature over the body authenticates it, within 5 minutes, once per event id.',
    responses: [{ status: 200, description: 'recorded', type: WebhookReceived, example: { received: true, orderId: '01a22c8d-ff03-70b9-847b-58d49a0e2dd1', applied: true } }],
    errors: [400, 401, 404, 415, 429],
    errorNotes: { 401: 'bad, stale or replayed signature (`bad_signature`)', 404: 'unknown order' },
  })
  @Public()
  @HttpCode(200)
  @Post('webhook')
  receive(@Body() body: unknown, @Headers('tetrad-signature') signature?: string) {
    const raw = typeof body === 'string' ? body : JSON.stringify(body ?? null);
    return this.sut.handle(raw, signature);
  }
}
