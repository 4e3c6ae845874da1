import { FASTIFY_ROUTE_CONFIG_METADATA } from '@nestjs/platform-fastify/constants';
import { errorCodes, FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../errors/app-error';
import { jsonNestsDeeperThan } from './json-depth';

/** Deeper JSON is refused before parsing (no body of this API nests past a handful of levels). */
export const MAX_JSON_DEPTH = 64;

const SIGNED_BODY = 'signedBody';

/**
 * For routes whose body is signed (webhooks): the exact bytes received are kept as
 * `req.rawBody` for signature checks, and text/plain is accepted beside application/json.
 */
export const SignedBody = (): MethodDecorator => routeConfig({ [SIGNED_BODY]: true });

/** Nest's RouteConfig, merged with what other decorators of the same method put there. */
export function routeConfig(entries: Record<string, unknown>): MethodDecorator {
  return (_target, _key, descriptor) => {
    const method = descriptor.value as object;
    Reflect.defineMetadata(FASTIFY_ROUTE_CONFIG_METADATA, { ...Reflect.getMetadata(FASTIFY_ROUTE_CONFIG_METADATA, method), ...entries }, method);
  };
}

export type RawBodyRequest = FastifyRequest & { rawBody?: Buffer };

function isSigned(req: FastifyRequest): boolean {
  return (req.routeOptions.config as unknown as Record<string, unknown> | undefined)?.[SIGNED_BODY] === true;
}

/**
 * The only body parsers: JSON (depth-bounded, with Fastify's prototype-poisoning checks), and
 * text/plain on signed routes. Any other content type — forms, multipart, XML — is 415.
 */
export function installBodyParsers(fastify: FastifyInstance): void {
  const parseJson = fastify.getDefaultJsonParser('error', 'error');
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('application/json', { parseAs: 'buffer' }, (req, body, done) => {
    const bytes = body as Buffer;
    if (jsonNestsDeeperThan(bytes, MAX_JSON_DEPTH)) {
      done(new AppError('invalid', 'json_too_deep', `JSON nests deeper than ${MAX_JSON_DEPTH} levels`), undefined);
      return;
    }
    if (isSigned(req)) (req as RawBodyRequest).rawBody = bytes;
    // Fastify's parser takes the Buffer as is (secure-json-parse reads Buffers); its type says string.
    parseJson(req, bytes as unknown as string, done);
  });
  fastify.addContentTypeParser('text/plain', { parseAs: 'buffer' }, (req, body, done) => {
    if (!isSigned(req)) {
      done(new errorCodes.FST_ERR_CTP_INVALID_MEDIA_TYPE(req.headers['content-type']), undefined);
      return;
    }
    (req as RawBodyRequest).rawBody = body as Buffer;
    done(null, (body as Buffer).toString('utf8'));
  });
}
