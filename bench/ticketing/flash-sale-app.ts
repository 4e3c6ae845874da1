/**
 * The app under test for flash-sale.bench.ts, in its own process (the load generator must not share
 * its event loop). Config comes from the environment the bench passes; the port goes back over IPC,
 * and a 'close' message shuts the app down (flushing a --cpu-prof profile on exit). It also serves
 * the authenticated empty route of bench/platform/http-overhead.bench.ts (GET /api/v1/bench, client
 * role), the yardstick the holds are compared with in the same process and run, and a hold-shaped
 * route (POST /api/v1/bench/events/:id/holds: same body, DTO validation and 409 problem as a losing
 * hold, no ticketing work), which splits a hold's cost into the platform's part and the module's.
 */
import { Body, Controller, Headers, Module, Param, Post } from '@nestjs/common';
import { createApp } from '../../src/app';
import { loadConfig } from '../../src/config/app-config';
import { RequireRole } from '../../src/platform/auth/roles.decorator';
import { CreateHoldDto } from '../../src/modules/ticketing/api/ticketing.dto';
import { TicketingCode, TicketingError } from '../../src/modules/ticketing/ticketing.errors';
import { EmptyRouteController } from '../support/empty-route';

@Controller('api/v1/bench')
class HoldShapeController {
  /** What a losing hold costs in the platform alone: the same POST, body, DTO validation and 409 problem, no ticketing work. */
  @RequireRole('client')
  @Post('events/:eventId/holds')
  hold(@Param('eventId') eventId: string, @Body() dto: CreateHoldDto, @Headers('idempotency-key') key?: string): never {
    throw new TicketingError('conflict', TicketingCode.SoldOut, `sold out: 0 left, ${dto.quantity ?? 1} asked (${eventId}, ${key})`, { available: 0 });
  }
}
@Module({ controllers: [EmptyRouteController, HoldShapeController] })
class BenchModule {}

async function main() {
  const config = loadConfig(process.env);
  const app = await createApp(config, [BenchModule]);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const port = (app.getHttpServer().address() as { port: number }).port;
  process.on('message', async (m) => {
    if (m !== 'close') return;
    await app.close().catch(() => undefined);
    process.exit(0);
  });
  process.send!({ port });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
