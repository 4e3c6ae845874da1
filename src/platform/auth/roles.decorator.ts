import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiExtension } from '@nestjs/swagger';
import type { ApiRole } from '../../config/app-config';
import { PUBLIC_EXTENSION, ROLE_EXTENSION } from '../openapi/contract-document';

export const ROLE_KEY = 'tetrad:role';
export const PUBLIC_KEY = 'tetrad:public';

/**
 * The least role a route needs. Roles nest: admin ⊇ service ⊇ client, so a route for `client`
 * also accepts service and admin keys.
 */
export const RequireRole = (role: ApiRole) => applyDecorators(SetMetadata(ROLE_KEY, role), ApiExtension(ROLE_EXTENSION, role));
/** Health, docs and metrics: no key. */
export const Public = () => applyDecorators(SetMetadata(PUBLIC_KEY, true), ApiExtension(PUBLIC_EXTENSION, true));

const RANK: Record<ApiRole, number> = { client: 1, service: 2, admin: 3 };
export function roleSatisfies(held: ApiRole, needed: ApiRole): boolean {
  return RANK[held] >= RANK[needed];
}
