import { applyDecorators, Type } from '@nestjs/common';
import { ApiExtension, ApiExtraModels, ApiOperation, ApiResponse, getSchemaPath } from '@nestjs/swagger';
import type { LinkObject, ReferenceObject, ResponseObject, SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { STATUS_CODES } from 'node:http';
import { TITLES } from '../errors/problem-details.filter';
import { PROBLEM_CONTENT_TYPE, ProblemSchema } from './problem.schema';

/** Carries an operation's request example to contract-document, which puts it on the request body. */
export const REQUEST_EXAMPLE_EXTENSION = 'x-request-example';

/** Error statuses an operation may declare; each is documented as a Problem. */
export type ProblemStatus = 400 | 401 | 403 | 404 | 409 | 413 | 414 | 415 | 422 | 425 | 429 | 503;

export interface SuccessResponse {
  status: number;
  description: string;
  /** A response class (its @ApiProperty fields), `[Class]` for an array of them, or a raw schema. */
  type?: Type | [Type];
  schema?: SchemaObject;
  example?: unknown;
  /** Default application/json. */
  contentType?: string;
  /** Operations a client can call next with values of this response (OpenAPI links). */
  links?: Record<string, LinkObject>;
}

/**
 * OpenAPI links from a response to operations that all take the same values from it:
 * `linksTo({ taskId: '$response.body#/taskId' }, { GetTask: 'GpuTasksController_get' })`.
 */
export function linksTo(parameters: Record<string, string>, operations: Record<string, string>): Record<string, LinkObject> {
  return Object.fromEntries(Object.entries(operations).map(([name, operationId]) => [name, { operationId, parameters }]));
}

export interface OperationContract {
  summary: string;
  description: string;
  /** A request body that succeeds (on the resources the examples of earlier operations create). */
  requestExample?: unknown;
  /** Every success status the operation answers (a 204 needs no type). */
  responses: SuccessResponse[];
  /**
   * Error statuses beyond the ones the document adds from the route itself (see contract-document:
   * 400 and 429/503 under /api, 401/403 with an API key, 404/414 with a path id, 415 with a body).
   */
  errors?: ProblemStatus[];
  /** Why an error happens, shown beside its status (and declaring it): `{ 409: 'the board exists' }`. */
  errorNotes?: Partial<Record<ProblemStatus, string>>;
}

/**
 * The whole OpenAPI contract of one operation in one decorator: summary, description, success
 * schemas with examples and links, and the error statuses (as application/problem+json Problem).
 */
export function ApiContract(c: OperationContract): MethodDecorator {
  return applyDecorators(
    ApiOperation({ summary: c.summary, description: c.description }),
    ...(c.requestExample !== undefined ? [ApiExtension(REQUEST_EXAMPLE_EXTENSION, c.requestExample)] : []),
    ApiExtraModels(ProblemSchema, ...c.responses.flatMap((r) => (r.type ? [Array.isArray(r.type) ? r.type[0] : r.type] : []))),
    ...c.responses.map((r) => ApiResponse({ status: r.status, description: r.description, content: successContent(r), links: r.links })),
    ...errorStatuses(c).map((s) => ApiResponse({ status: s, ...problemResponse(s, c.errorNotes?.[s]) })),
  );
}

function errorStatuses(c: OperationContract): ProblemStatus[] {
  const noted = Object.keys(c.errorNotes ?? {}).map(Number) as ProblemStatus[];
  return [...new Set([...(c.errors ?? []), ...noted])];
}

export function problemResponse(status: number, note?: string): ResponseObject {
  const title = TITLES[status] ?? STATUS_CODES[status] ?? 'Error';
  return {
    description: note ? `${title}: ${note}` : title,
    content: { [PROBLEM_CONTENT_TYPE]: { schema: { $ref: getSchemaPath(ProblemSchema) } } },
  };
}

function successContent(r: SuccessResponse): ResponseObject['content'] {
  if (r.status === 204) return undefined;
  const schema: SchemaObject | ReferenceObject = r.schema ?? schemaOf(r.type);
  return { [r.contentType ?? 'application/json']: { schema, ...(r.example !== undefined ? { example: r.example } : {}) } };
}

function schemaOf(type: SuccessResponse['type']): SchemaObject | ReferenceObject {
  if (!type) throw new Error('a success response needs a type or a schema');
  return Array.isArray(type) ? { type: 'array', items: { $ref: getSchemaPath(type[0]) } } : { $ref: getSchemaPath(type) };
}
