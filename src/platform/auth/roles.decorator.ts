import { applyDecorators } from '@nestjs/common';
import { ApiExtension } from '@nestjs/swagger';
import type { ApiRole } from '../../config/app-config';
import { routeConfig } from '../http/body-parsers';
import { PUBLIC_EXTENSION, ROLE_EXTENSION } from '../openapi/contract-document';

/** Who may call a route, in its Fastify route config: read once per route at boot (api-key.guard.ts). */
export const ACCESS = 'tetradAccess';
export type RouteAccess = { role: ApiRole } | { public: true };

/**
 * The least role a route needs. Roles nest: admin ⊇ service ⊇ client, so a route for `client`
 * also accepts service and admin keys.
 */
export const RequireRole = (role: ApiRole) => applyDecorators(routeConfig({ [ACCESS]: { role } }), ApiExtension(ROLE_EXTENSION, role));
/** Health, docs and metrics: no key. */
export const Public = () => applyDecorators(routeConfig({ [ACCESS]: { public: true } }), ApiExtension(PUBLIC_EXTENSION, true));

const RANK: Record<ApiRole, number> = { client: 1, service: 2, admin: 3 };
export function roleSatisfies(held: ApiRole, needed: ApiRole): boolean {
  return RANK[held] >= RANK[needed];
}
