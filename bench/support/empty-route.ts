import { Controller, Get } from '@nestjs/common';
import { RequireRole } from '../../src/platform/auth/roles.decorator';

/**
 * The authenticated empty route (GET /api/v1/bench, client role): the yardstick the HTTP and flash-sale
 * benches compare with, so both measure the same route.
 */
@Controller('api/v1/bench')
export class EmptyRouteController {
  @RequireRole('client')
  @Get()
  get() {
    return { ok: true, n: 42 };
  }
}
