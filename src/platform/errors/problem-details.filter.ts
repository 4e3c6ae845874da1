import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError, statusOf } from './app-error';
import { DEPENDENCY_RETRY_AFTER_SECONDS, unavailableDependency } from './dependency-unavailable';

export interface FieldProblem {
  field: string;
  message: string;
}

/** Thrown by the ValidationPipe's exceptionFactory: carries one entry per invalid field. */
export class ValidationFailed extends AppError {
  constructor(readonly fields: FieldProblem[]) {
    super('invalid', 'validation_failed', `${fields.length} field(s) failed validation`, { errors: fields });
  }
}

export const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  409: 'Conflict',
  413: 'Payload Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  425: 'Too Early',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/**
 * Every error leaves as RFC 9457 application/problem+json. Unknown errors become a 500 without
 * internals (logged with the request id); malformed input never reaches that branch because
 * Fastify's parser errors carry 4xx status codes and are mapped here.
 */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    sendProblem(ctx.getRequest<FastifyRequest>(), ctx.getResponse<FastifyReply>(), exception);
  }
}

const log = new Logger('http');

/**
 * Writes `exception` as a problem document. Also used for errors Fastify raises before any Nest
 * handler runs (bad URLs, over-long path parameters), so every error has the same shape.
 */
export function sendProblem(req: FastifyRequest, reply: FastifyReply, exception: unknown): void {
  const dependency = exception instanceof AppError ? undefined : unavailableDependency(exception);
  const problem = dependency ? dependencyProblem() : toProblem(exception);
  if (dependency) {
    // Expected during a failover or restart, and the same for every request: one line, no stack.
    const reason = exception instanceof Error ? `${exception.name}: ${exception.message}` : String(exception);
    log.warn({ reqId: req.id, dependency, reason }, 'dependency unavailable');
  } else if (problem.status >= 500 && !(exception instanceof AppError)) {
    log.error({ err: exception, reqId: req.id }, 'unhandled error');
  }
  const headers = (problem as { headers?: Record<string, string> }).headers;
  delete (problem as { headers?: unknown }).headers;
  if (headers) for (const [k, v] of Object.entries(headers)) void reply.header(k, v);
  void reply
    .status(problem.status)
    .header('content-type', 'application/problem+json; charset=utf-8')
    .send({ ...problem, instance: req.url, requestId: req.id });
}

/** Fastify's own error codes that deserve a more telling `code` than malformed_request. */
const FASTIFY_CODES: Record<string, { status?: number; code: string }> = {
  // The contract answers oversized bodies with 400 like every other malformed input.
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 400, code: 'body_too_large' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { code: 'unsupported_media_type' },
  FST_ERR_MAX_PARAM_LENGTH: { code: 'uri_too_long' },
  FST_ERR_BAD_URL: { code: 'malformed_url' },
};

function toProblem(e: unknown): { status: number; title: string; detail: string; code: string; [k: string]: unknown } {
  if (e instanceof AppError) {
    const status = statusOf(e.kind);
    const { retryAfterSeconds, ...extra } = e.extra as { retryAfterSeconds?: number };
    return {
      type: `urn:tetrad:problem:${e.code}`,
      status,
      title: TITLES[status] ?? 'Error',
      detail: e.message,
      code: e.code,
      ...extra,
      ...(retryAfterSeconds !== undefined ? { headers: { 'retry-after': String(retryAfterSeconds) } } : {}),
    };
  }
  if (e instanceof HttpException) {
    const status = e.getStatus();
    // The contract answers oversized bodies with 400 like every other malformed input.
    if (status === 413) return { type: 'about:blank', status: 400, title: TITLES[400], detail: e.message, code: 'body_too_large' };
    const body = e.getResponse();
    const detail =
      typeof body === 'string' ? body : String((body as { message?: unknown }).message ?? e.message);
    return { type: 'about:blank', status, title: TITLES[status] ?? 'Error', detail, code: codeFor(status) };
  }
  // Fastify raises plain errors with a statusCode for bad JSON, wrong content type, big bodies.
  const fastify = e as { statusCode?: number; code?: string; message?: string };
  if (typeof fastify.statusCode === 'number' && fastify.statusCode >= 400 && fastify.statusCode < 500) {
    const known = FASTIFY_CODES[fastify.code ?? ''];
    const status = known?.status ?? fastify.statusCode;
    const code = known?.code ?? 'malformed_request';
    return { type: 'about:blank', status, title: TITLES[status] ?? 'Bad Request', detail: fastify.message ?? 'bad request', code };
  }
  return {
    type: 'about:blank',
    status: HttpStatus.INTERNAL_SERVER_ERROR,
    title: TITLES[500],
    detail: 'internal error; quote the requestId when reporting it',
    code: 'internal',
  };
}

/** A dependency that is down right now: the client should retry, nothing here is broken. */
function dependencyProblem(): ReturnType<typeof toProblem> {
  return {
    type: 'urn:tetrad:problem:dependency_unavailable',
    status: HttpStatus.SERVICE_UNAVAILABLE,
    title: TITLES[503],
    detail: 'a service this request needs is unavailable right now; retry after the time in Retry-After',
    code: 'dependency_unavailable',
    headers: { 'retry-after': String(DEPENDENCY_RETRY_AFTER_SECONDS) },
  };
}

function codeFor(status: number): string {
  if (status === 400) return 'malformed_request';
  return (TITLES[status] ?? 'error').toLowerCase().replace(/ /g, '_');
}
