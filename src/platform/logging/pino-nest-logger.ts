import type { LoggerService } from '@nestjs/common';
import type { FastifyBaseLogger } from 'fastify';

type Level = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';

/**
 * Nest's Logger written through Fastify's own pino logger, so start-up, module and error lines
 * are the same JSON as the access log. It replaces nestjs-pino, whose per-request Express-style
 * middleware (through @fastify/middie) and AsyncLocalStorage (promise hooks on every promise) took
 * about 5% of the empty route's CPU profile (docs/benchmarks.md, issue 14). Request-scoped lines carry the request id because
 * they are written with `req.log` (access log) or with `reqId` (ProblemDetailsFilter).
 * Argument handling follows nestjs-pino's: the last optional argument is the context; an object
 * message is merged into the line; an Error becomes `err`.
 */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly pino: FastifyBaseLogger) {}

  verbose(message: unknown, ...rest: unknown[]): void {
    this.write('trace', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]): void {
    this.write('debug', message, rest);
  }
  log(message: unknown, ...rest: unknown[]): void {
    this.write('info', message, rest);
  }
  warn(message: unknown, ...rest: unknown[]): void {
    this.write('warn', message, rest);
  }
  error(message: unknown, ...rest: unknown[]): void {
    this.write('error', message, rest);
  }
  fatal(message: unknown, ...rest: unknown[]): void {
    this.write('fatal', message, rest);
  }

  private write(level: Level, message: unknown, rest: unknown[]): void {
    const line: Record<string, unknown> = {};
    let params = rest;
    if (rest.length > 0) {
      line.context = rest[rest.length - 1];
      params = rest.slice(0, -1);
    }
    if (typeof message === 'object' && message !== null) {
      if (message instanceof Error) line.err = message;
      else Object.assign(line, message);
      this.pino[level](line, ...(params as []));
    } else if (level === 'error' && typeof message === 'string' && params.length === 1 && isStack(params[0])) {
      // Nest's own exception handlers call error(message, stack, context).
      const err = new Error(message);
      err.stack = params[0];
      this.pino[level]({ ...line, err });
    } else {
      this.pino[level](line, String(message), ...(params as []));
    }
  }
}

function isStack(v: unknown): v is string {
  return typeof v === 'string' && /\n\s*at /.test(v);
}

/**
 * Fastify's childLoggerFactory: a request's logger (req.log, bound to its request id) is made
 * when something first logs through it. Fastify's default made a pino child on every request
 * (bindings serialised, level set): ~1.5 µs of the empty route, where nothing logs at warn (issue 14).
 */
export function lazyChildLogger(parent: FastifyBaseLogger, bindings: object, opts: object): FastifyBaseLogger {
  return new LazyChild(parent, bindings, opts) as unknown as FastifyBaseLogger;
}

class LazyChild {
  private made?: FastifyBaseLogger;
  constructor(
    private readonly parent: FastifyBaseLogger,
    private readonly bindings: object,
    private readonly opts: object,
  ) {}
  private get real(): FastifyBaseLogger {
    return (this.made ??= this.parent.child(this.bindings, this.opts));
  }
  get level(): string {
    return this.real.level;
  }
  set level(level: string) {
    this.real.level = level;
  }
  child(bindings: object, opts?: object): FastifyBaseLogger {
    return this.real.child(bindings, opts);
  }
}
for (const level of ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const) {
  Object.defineProperty(LazyChild.prototype, level, {
    value(this: { real: FastifyBaseLogger }, ...args: unknown[]) {
      const real = this.real;
      return (real[level] as (...a: unknown[]) => void).apply(real, args);
    },
  });
}
