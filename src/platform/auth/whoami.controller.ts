import { Controller, Get, Req } from '@nestjs/common';
import { ApiOkResponse, ApiSecurity, ApiTags } from '@nestjs/swagger';
import type { AuthenticatedRequest } from './api-key.guard';
import { RequireRole } from './roles.decorator';

/** Lets a client (the web console) check a key and learn its role, to show only what the role may do. */
@ApiTags('platform')
@ApiSecurity('api-key')
@Controller('api/v1')
export class WhoAmIController {
  @RequireRole('client')
  @Get('whoami')
  @ApiOkResponse({ description: '`{ role }`: admin, service or client (admin ⊇ service ⊇ client)' })
  whoami(@Req() req: AuthenticatedRequest) {
    return { role: req.apiRole };
  }
}
