import { Logger, Type, ValidationError } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { SwaggerModule } from '@nestjs/swagger';
import { FastifyInstance, LogController } from 'fastify';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { AppModule } from './app.module';
import { AppConfig } from './config/app-config';
import { HttpGuardConfig } from './config/config-slice';
import { installApiKeyAuth } from './platform/auth/api-key.guard';
import { serveConsole } from './platform/console/serve-console';
import { FieldProblem, ValidationFailed } from './platform/errors/problem-details.filter';
import { installBodyParsers } from './platform/http/body-parsers';
import { clientErrorHandler, frameworkErrors, MAX_PARAM_LENGTH } from './platform/http/router-errors';
import { installTextCheck } from './platform/http/well-formed-text';
import { installResponseHeaders } from './platform/http/security-headers';
import { Infrastructure } from './platform/infrastructure';
import { EventBusTransport } from './platform/messaging/event-bus.transport';
import { lazyChildLogger, PinoNestLogger } from './platform/logging/pino-nest-logger';
import { installIpRateLimit } from './platform/rate-limit/ip-rate-limit';
import { RateLimiter } from './platform/rate-limit/rate-limiter';
import { buildContractDocument } from './platform/openapi';
import { MetricsRegistry } from './platform/metrics/metrics';
import { QueryValidationPipe } from './platform/validation/query-validation-pipe';

/**
 * Builds the whole application for a config: opens the infrastructure of its profile, composes
 * the modules, and wires the HTTP cross-cutting concerns. Used by main.ts and by the e2e tests.
 */
/** `extra` lets tests mount probe modules beside the real ones. */
export async function createApp(config: AppConfig, extra: Type[] = []): Promise<NestFastifyApplication> {
  // Until pino takes over (below), Nest's console logger would print start-up lines regardless.
  if (config.LOG_LEVEL === 'silent') Logger.overrideLogger(false);
  const infra = await Infrastructure.open(config);
  try {
    const adapter = new FastifyAdapter({
      bodyLimit: config.HTTP_BODY_LIMIT_BYTES,
      logger: { level: config.LOG_LEVEL, redact: ['req.headers["x-api-key"]', 'req.headers.authorization'] },
      // One access-log line per request, written in the onResponse hook below.
      logController: new LogController({ disableRequestLogging: true }),
      genReqId: requestId,
      childLoggerFactory: lazyChildLogger,
      // Keep-alive sockets must not hold up a graceful shutdown.
      forceCloseConnections: 'idle',
      return503OnClosing: true,
      trustProxy: config.trustProxy,
      // Slow-body defence: the whole request within HTTP_REQUEST_TIMEOUT_MS, checked often enough
      // that the limit holds (Node checks every 30 s by default).
      requestTimeout: config.HTTP_REQUEST_TIMEOUT_MS,
      http: {
        headersTimeout: Math.min(60_000, config.HTTP_REQUEST_TIMEOUT_MS),
        connectionsCheckingInterval: Math.min(1_000, config.HTTP_REQUEST_TIMEOUT_MS),
      },
      routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
      frameworkErrors,
      clientErrorHandler,
    });
    const app = await NestFactory.create<NestFastifyApplication>(AppModule.compose(infra, extra), adapter, {
      bufferLogs: true,
      abortOnError: false,
      // Ours instead (installBodyParsers): depth-bounded JSON, raw bytes for signed routes, 415 for forms.
      bodyParser: false,
    });
    // Fastify's own pino logger for Nest's lines too: one JSON format, no per-request middleware.
    app.useLogger(new PinoNestLogger(app.getHttpAdapter().getInstance().log));
    app.useGlobalPipes(
      new QueryValidationPipe({
        whitelist: true,
        forbidNonWhitelisted: true,
        transform: true,
        stopAtFirstError: false,
        exceptionFactory: (errors) => new ValidationFailed(flatten(errors)),
      }),
    );
    // Connections close in InfrastructureCloser, after every module's shutdown hooks.
    const fastify = app.getHttpAdapter().getInstance();
    installResponseHeaders(fastify);
    installAccessLog(fastify, app.get(MetricsRegistry));
    installCloseAfterShutdown(fastify);
    installIpRateLimit(fastify, app.get(RateLimiter), config.ipRateLimitPerSecond);
    // Before app.init() registers the controllers' routes: each route's key rule is read once there.
    installApiKeyAuth(fastify, app.get(HttpGuardConfig), app.get(RateLimiter));
    installBodyParsers(fastify);
    installTextCheck(fastify);
    SwaggerModule.setup('docs', app, () => buildContractDocument(app), { jsonDocumentUrl: 'docs-json' });
    await serveConsole(app);
    if (config.hasRole('worker')) {
      // Consumers (@ConsumeBatch handlers in the modules' *.consumer.ts) run in the worker role only. They
      // start once the modules' init hooks made their topics, so the app is initialised here (listen() then
      // skips it), and stop in app.close() after every beforeApplicationShutdown hook, before the pools close.
      const strategy = new EventBusTransport(infra.bus, config, infra.metrics, (token) => app.get(token, { strict: false }));
      app.connectMicroservice({ strategy }, { inheritAppConfig: false });
      await app.init();
      await app.startAllMicroservices();
    }
    return app;
  } catch (e) {
    await infra.close();
    throw e;
  }
}

function requestId(raw: IncomingMessage): string {
  const given = raw.headers['x-request-id'];
  const id = typeof given === 'string' && /^[\x21-\x7e]{1,128}$/.test(given) ? given : randomUUID();
  // The access log (req.log) and the problem documents carry the same id.
  (raw as IncomingMessage & { id?: string }).id = id;
  return id;
}

function installAccessLog(fastify: FastifyInstance, metrics: MetricsRegistry): void {
  // Callback-style hook: an async hook costs a promise per request on the hot path.
  // The line is built only when it will be written (LOG_LEVEL info or lower).
  const accessLog = ['trace', 'debug', 'info'].includes(fastify.log.level);
  fastify.addHook('onResponse', (req, reply, done) => {
    const route = req.routeOptions?.url ?? 'unmatched';
    if (accessLog && !route.startsWith('/health') && route !== '/metrics') {
      req.log.info({ method: req.method, url: req.url, status: reply.statusCode, ms: +reply.elapsedTime.toFixed(2) }, 'request');
    }
    metrics.httpDuration.observe(req.method, route, reply.statusCode, reply.elapsedTime / 1000);
    done();
  });
}

/**
 * While the server closes, every response says `Connection: close`. Node's server.close() reaps only
 * the connections idle at that moment, and Fastify marks only the requests that arrive afterwards: a
 * request already in flight was answered with keep-alive, and its connection then held app.close()
 * until the keep-alive timeout (72 s). The built-in simulated GPU agents heartbeat and report to this
 * very server, so their apps sometimes had one in flight when they closed.
 */
function installCloseAfterShutdown(fastify: FastifyInstance): void {
  let closing = false;
  fastify.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  fastify.addHook('onSend', (_req, reply, payload, done) => {
    if (closing) void reply.header('connection', 'close');
    done(null, payload);
  });
}

function flatten(errors: ValidationError[], parent = ''): FieldProblem[] {
  return errors.flatMap((e) => {
    const field = parent ? `${parent}.${e.property}` : e.property;
    const own = Object.values(e.constraints ?? {}).map((message) => ({ field, message }));
    return [...own, ...flatten(e.children ?? [], field)];
  });
}

