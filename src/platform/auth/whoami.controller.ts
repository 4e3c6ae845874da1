import { Controller, Get, Req } from '@nestjs/common';
import { ApiProperty, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { ApiContract } from '../openapi';
import type { AuthenticatedRequest } from './api-key.guard';
import { RequireRole } from './roles.decorator';

class WhoAmI {
  @ApiProperty({ enum: ['admin', 'service', 'client'], description: 'admin ⊇ service ⊇ client' }) role!: string;
}

/** Lets a client (the web console) check a key and learn its role, to show only what the role may do. */
@ApiTags('platform')
@ApiSecurity('api-key')
@Controller('api/v1')
export class WhoAmIController {
  @ApiContract({
    summary: "The API key's role",
    description: 'Checks the X-API-Key and names its role, so a client can offer only what the role may do.',
    responses: [{ status: 200, description: 'the role', type: WhoAmI, example: { role: 'client' } }],
  })
  @RequireRole('client')
  @Get('whoami')
  whoami(@Req() req: AuthenticatedRequest) {
    return { role: req.apiRole };
  }
}
