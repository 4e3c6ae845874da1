import { applyDecorators, Controller, Delete, Get, HttpCode, Patch, Post, Put } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { ApiRole } from '../../config/app-config';
import { Public, RequireRole } from '../auth/roles.decorator';
import { ApiContract, OperationContract } from './api-contract.decorator';

const METHODS = { GET: Get, POST: Post, PUT: Put, PATCH: Patch, DELETE: Delete };

/**
 * A whole operation in one decorator: route (`'GET orders/:orderId'`, or the method alone for the
 * controller's path), the least role it needs (or `public`), its summary and its OpenAPI contract. It answers
 * with its first success status wherever that is not Nest's default (201 for POST, 200 otherwise),
 * so the contract and the status on the wire cannot disagree.
 */
export function Endpoint(route: `${keyof typeof METHODS}${'' | ` ${string}`}`, role: ApiRole | 'public', summary: string, contract: Omit<OperationContract, 'summary'>): MethodDecorator {
  const [method, path] = route.split(' ') as [keyof typeof METHODS, string | undefined];
  const status = contract.responses[0].status;
  return applyDecorators(
    METHODS[method](path),
    ...(status !== (method === 'POST' ? 201 : 200) ? [HttpCode(status)] : []),
    role === 'public' ? Public() : RequireRole(role),
    ApiContract({ summary, ...contract }),
  );
}

/** A controller of the HTTP API: its path prefix and the OpenAPI tag its operations are listed under. */
export const ApiController = (tag: string, path: string): ClassDecorator => applyDecorators(Controller(path), ApiTags(tag));
