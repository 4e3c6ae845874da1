import { Req } from '@nestjs/common';
import { ApiProperty } from '@nestjs/swagger';
import { ApiController, Endpoint } from '../openapi';
import type { AuthenticatedRequest } from './api-key.guard';

class WhoAmI {
  @ApiProperty({ enum: ['admin', 'service', 'client'], description: 'admin ⊇ service ⊇ client' }) role!: string;
}

/** Lets a client (the web console) check a key and learn its role, to show only what the role may do. */
@ApiController('platform', 'api/v1')
export class WhoAmIController {
  @Endpoint('GET whoami', 'client', "The API key's role", {
    description: 'Checks the X-API-Key and names its role, so a client can offer only what the role may do.',
    responses: [{ status: 200, description: 'the role', type: WhoAmI, example: { role: 'client' } }],
  })
  whoami(@Req() req: AuthenticatedRequest) {
    return { role: req.apiRole };
  }
}
