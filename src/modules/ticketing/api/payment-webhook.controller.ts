import { Body, Controller, Headers, HttpCode, Post } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Public } from '../../../platform/auth/roles.decorator';
import { PaymentWebhookService } from '../ticketing.webhook';

/**
 * No API key: the provider authenticates with an HMAC signature. The signature covers the exact
 * body: sent as text/plain it is checked byte for byte; sent as application/json it is checked
 * against the compact re-serialization (JSON.stringify) of the parsed body.
 */
@ApiTags('ticketing')
@Controller('api/v1/payments')
export class PaymentWebhookController {
  constructor(private readonly sut: PaymentWebhookService) {}

  @Public()
  @HttpCode(200)
  @Post('webhook')
  receive(@Body() body: unknown, @Headers('tetrad-signature') signature?: string) {
    const raw = typeof body === 'string' ? body : JSON.stringify(body ?? null);
    return this.sut.handle(raw, signature);
  }
}
