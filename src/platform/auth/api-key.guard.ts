import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { timingSafeEqual } from 'node:crypto';
import type { ApiRole } from '../../config/app-config';
import { HttpGuardConfig } from '../../config/config-slice';
import { AppError } from '../errors/app-error';
import { PUBLIC_KEY, ROLE_KEY, roleSatisfies } from './roles.decorator';

export interface AuthenticatedRequest extends FastifyRequest {
  apiRole?: ApiRole;
  apiKey?: string;
}

/** X-API-Key on every /api/v1 route: 401 without a known key, 403 when its role is too low. */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  private readonly keys: [Buffer, ApiRole, string][];

  constructor(
    private readonly reflector: Reflector,
    config: HttpGuardConfig,
  ) {
    this.keys = [...config.apiKeys].map(([k, r]) => [Buffer.from(k), r, k]);
  }

  canActivate(ctx: ExecutionContext): boolean {
    const targets = [ctx.getHandler(), ctx.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_KEY, targets)) return true;
    const req = ctx.switchToHttp().getRequest<AuthenticatedRequest>();
    const presented = req.headers['x-api-key'];
    if (typeof presented !== 'string' || presented === '') {
      throw new AppError('unauthenticated', 'api_key_missing', 'X-API-Key header is required');
    }
    const found = this.lookup(presented);
    if (!found) throw new AppError('unauthenticated', 'api_key_invalid', 'X-API-Key is not a known key');
    req.apiRole = found[1];
    req.apiKey = found[2];
    const needed = this.reflector.getAllAndOverride<ApiRole>(ROLE_KEY, targets) ?? 'admin';
    if (!roleSatisfies(found[1], needed)) {
      throw new AppError('forbidden', 'role_forbidden', `this route needs the ${needed} role; the key has ${found[1]}`);
    }
    return true;
  }

  /** Constant-time per candidate so response timing does not leak key prefixes. */
  private lookup(presented: string): [Buffer, ApiRole, string] | undefined {
    const p = Buffer.from(presented);
    return this.keys.find(([k]) => k.length === p.length && timingSafeEqual(k, p));
  }
}
