import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { OpenAPIObject, OperationObject, ParameterObject, SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { problemResponse, REQUEST_EXAMPLE_EXTENSION } from './api-contract.decorator';
import { closedSchemas } from './closed-schema.decorator';
import { copyValidatorConstraints } from './validator-constraints';

export const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;
/** Set by Public() and RequireRole() (auth/roles.decorator) so the document knows each route's guard. */
export const PUBLIC_EXTENSION = 'x-public';
export const ROLE_EXTENSION = 'x-required-role';

/**
 * Builds the OpenAPI document served at /docs-json: Nest's scan of the controllers, with the
 * validators' limits copied in first, then the rules every operation shares applied once here
 * rather than repeated on each route.
 */
export function buildContractDocument(app: INestApplication): OpenAPIObject {
  const strictSchemas = copyValidatorConstraints();
  const config = new DocumentBuilder()
    .setTitle('Tetrad')
    .setDescription(
      'Leaderboard, ticketing, ad analytics and GPU scheduling in one service. Every error is ' +
        '`application/problem+json` (the Problem schema). Every /api/v1 route needs `X-API-Key`; its ' +
        'least role is in `x-required-role` (admin ⊇ service ⊇ client). Links between operations show ' +
        'which response values feed the next call.',
    )
    .setVersion('0.1.0')
    .addApiKey({ type: 'apiKey', name: 'X-API-Key', in: 'header' }, 'api-key')
    .addSecurityRequirements('api-key')
    .build();
  return finishDocument(SwaggerModule.createDocument(app, config), new Set([...strictSchemas, ...closedSchemas]));
}

/** The document-wide rules; exported for the document's own tests. */
export function finishDocument(doc: OpenAPIObject, strictSchemas: Set<string>): OpenAPIObject {
  for (const [name, schema] of Object.entries(doc.components?.schemas ?? {})) {
    if (strictSchemas.has(name) && (schema as SchemaObject).type === 'object') (schema as SchemaObject).additionalProperties = false;
  }
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of METHODS) {
      const op = item[method];
      if (op) finishOperation(path, method, op);
    }
  }
  return doc;
}

function finishOperation(path: string, method: (typeof METHODS)[number], op: OperationObject): void {
  const ext = op as OperationObject & Record<string, unknown>;
  const isPublic = ext[PUBLIC_EXTENSION] === true;
  delete ext[PUBLIC_EXTENSION];
  const example = ext[REQUEST_EXAMPLE_EXTENSION];
  delete ext[REQUEST_EXAMPLE_EXTENSION];
  const json = op.requestBody && 'content' in op.requestBody ? op.requestBody.content['application/json'] : undefined;
  if (json && example !== undefined) json.example = example;
  const parameters = dedupeHeaders((op.parameters ?? []) as ParameterObject[]);
  op.parameters = parameters;
  if (isPublic) op.security = [];
  else delete op.security; // the document-wide requirement applies
  const api = path.startsWith('/api/');
  const implied: number[] = [];
  // Any /api request can be malformed (bad JSON, NUL bytes, an over-long id), with or without a DTO.
  if (api || parameters.length > 0) implied.push(400);
  if (!isPublic) implied.push(401, 403);
  // A path id can be unknown (404) or longer than the router matches (414).
  if (parameters.some((p) => p.in === 'path')) implied.push(404, 414);
  if (op.requestBody || method === 'post' || method === 'put' || method === 'patch') implied.push(415);
  // The rate limiter answers 429; any route answers 503 while a dependency it needs is down.
  if (api) implied.push(429);
  for (const status of implied) op.responses[status] ??= problemResponse(status);
  if (api) documentDependencyOutage(op);
  // Errors a decorator listed without a body are Problems too; /health/ready keeps terminus's body.
  for (const [status, response] of Object.entries(op.responses)) {
    if (response && Number(status) >= 400 && !('$ref' in response) && !response.content) response.content = problemResponse(Number(status)).content;
  }
}

const DEPENDENCY_OUTAGE =
  'code `dependency_unavailable` while Redis, PostgreSQL or Kafka is unreachable (a restart, a failover); retry after Retry-After';

/** The 503 every /api operation can answer (ProblemDetailsFilter), with its Retry-After header. */
function documentDependencyOutage(op: OperationObject): void {
  const r = (op.responses[503] ??= problemResponse(503, DEPENDENCY_OUTAGE));
  if ('$ref' in r) return;
  if (!r.description.includes('dependency_unavailable')) r.description += `; also ${DEPENDENCY_OUTAGE}`;
  r.headers = { ...r.headers, 'Retry-After': { description: 'seconds to wait before retrying', schema: { type: 'integer', minimum: 1 } } };
}

/**
 * `@Headers('idempotency-key')` makes Nest list a header that @ApiHeader already documents under
 * its canonical spelling: keep one per name (header names are case-insensitive).
 */
function dedupeHeaders(params: ParameterObject[]): ParameterObject[] {
  const kept = new Map<string, ParameterObject>();
  const rest: ParameterObject[] = [];
  for (const p of params) {
    if (p.in !== 'header') {
      rest.push(p);
      continue;
    }
    // @ApiHeader entries come after the ones Nest derives from @Headers(): the last one wins.
    kept.set(p.name.toLowerCase(), p);
  }
  return [...rest, ...kept.values()];
}

