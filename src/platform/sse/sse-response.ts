import type { FastifyReply, FastifyRequest } from 'fastify';

const HEARTBEAT_MS = 15_000;

export interface SseChannel {
  send(event: string, data: unknown): void;
  end(): void;
}

/**
 * Turns a request into a server-sent-events response (the reply is hijacked, so Nest does not
 * serialize anything). `onClose` runs once when the client goes away or `end()` is called.
 * A comment line every 15 s keeps proxies from timing the stream out.
 */
export function openSse(req: FastifyRequest, reply: FastifyReply, onClose: () => void): SseChannel {
  const raw = reply.raw;
  reply.hijack();
  raw.writeHead(200, {
    ...(reply.getHeaders() as Record<string, string>),
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
    'x-request-id': String(req.id),
  });
  raw.write(': connected\n\n');
  const beat = setInterval(() => raw.write(': keep-alive\n\n'), HEARTBEAT_MS);
  beat.unref();
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    clearInterval(beat);
    onClose();
  };
  req.raw.on('close', close);
  raw.on('close', close);
  return {
    send: (event, data) => {
      if (!closed) raw.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    },
    end: () => {
      close();
      raw.end();
    },
  };
}
