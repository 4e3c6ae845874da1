import type { FastifyReply, FastifyRequest } from 'fastify';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { sendProblem } from '../errors/problem-details.filter';

/**
 * Longest path parameter the router matches. The longest documented id is 128 characters
 * (player ids), up to 384 once percent-encoded; the modules' own checks answer 400 or 404 for
 * anything between that and this. Beyond it, 414 — as a problem document.
 */
export const MAX_PARAM_LENGTH = 512;

/** Errors the router raises before any route runs (malformed URL, over-long parameter). */
export function frameworkErrors(error: Error, req: FastifyRequest, reply: FastifyReply): void {
  sendProblem(req, reply, error);
}

const CLIENT_ERRORS: Record<string, [number, string, string]> = {
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'request_timeout', 'the request was not received in time'],
  HPE_HEADER_OVERFLOW: [431, 'headers_too_large', 'the request headers are too large'],
};

/**
 * Errors Node's HTTP parser raises on the socket (a request not received within
 * HTTP_REQUEST_TIMEOUT_MS, oversized headers, broken HTTP): answered as problem+json, then closed.
 */
export function clientErrorHandler(err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, code, detail] = CLIENT_ERRORS[err.code ?? ''] ?? [400, 'malformed_request', 'the request is not valid HTTP'];
  const title = STATUS_CODES[status] ?? 'Error';
  const body = JSON.stringify({ type: 'about:blank', status, title, detail, code });
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${title}\r\nContent-Type: application/problem+json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(err);
}
