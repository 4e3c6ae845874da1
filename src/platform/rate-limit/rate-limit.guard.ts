import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { HttpGuardConfig } from '../../config/config-slice';
import type { AuthenticatedRequest } from '../auth/api-key.guard';
import { PUBLIC_KEY } from '../auth/roles.decorator';
import { RateLimiter } from './rate-limiter';

/** The per-key limit; runs after authentication. The per-IP limit runs earlier (ip-rate-limit.ts). */
@Injectable()
export class RateLimitGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly limiter: RateLimiter,
    private readonly config: HttpGuardConfig,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    if (this.config.RATE_LIMIT_PER_SECOND === 0) return true;
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_KEY, [ctx.getHandler(), ctx.getClass()])) return true;
    const req = ctx.switchToHttp().getRequest<AuthenticatedRequest>();
    await this.limiter.consume('global', req.apiKey ?? req.ip, this.config.RATE_LIMIT_PER_SECOND, 1);
    return true;
  }
}
