import type { FastifyInstance } from 'fastify';
import { AppError } from '../errors/app-error';
import type { FieldProblem } from '../errors/problem-details.filter';

/** What is wrong with `s` as stored text, or undefined. PostgreSQL refuses NUL in text and jsonb,
 *  and a lone UTF-16 surrogate has no UTF-8 encoding, so neither may reach a store. */
export function textDefect(s: string): string | undefined {
  if (s.includes('\u0000')) return 'contains a NUL character (U+0000)';
  if (!(s as string & { isWellFormed(): boolean }).isWellFormed()) return 'contains a lone UTF-16 surrogate';
  return undefined;
}

const MAX_REPORTED = 20;

/**
 * Every string in `value` — object keys included — that is not storable text, as field problems.
 * `path` names the value (`''` for a body root); nested fields read `a.b[2].c`. The walk is
 * recursive: callers pass values whose depth is already bounded (the JSON parser caps it).
 */
export function malformedTextFields(value: unknown, path: string, out: FieldProblem[] = []): FieldProblem[] {
  if (out.length >= MAX_REPORTED) return out;
  if (typeof value === 'string') {
    const defect = textDefect(value);
    if (defect) out.push({ field: path, message: `${path || 'body'} ${defect}` });
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => malformedTextFields(v, `${path}[${i}]`, out));
  } else if (value !== null && typeof value === 'object') {
    // for...in, not Object.entries: no array per object (most requests' params and query are empty).
    for (const k in value) {
      if (!Object.hasOwn(value, k)) continue;
      const v = (value as Record<string, unknown>)[k];
      const field = path ? `${path}.${k}` : k;
      const keyDefect = textDefect(k);
      if (keyDefect) out.push({ field, message: `the name of ${field} ${keyDefect}` });
      else malformedTextFields(v, field, out);
    }
  }
  return out;
}

/**
 * One rule for every route, before validation and before any handler: path parameters, query
 * values and JSON strings (keys too) must be storable text, else 400 `invalid_text` naming them.
 */
export function installTextCheck(fastify: FastifyInstance): void {
  // Callback style: no promise per request on the hot path.
  fastify.addHook('preValidation', (req, _reply, done) => {
    const problems = malformedTextFields(req.params, '');
    malformedTextFields(req.query, '', problems);
    if (req.body !== null && typeof req.body === 'object') malformedTextFields(req.body, '', problems);
    if (problems.length > 0) {
      done(new AppError('invalid', 'invalid_text', `${problems.length} field(s) hold text that cannot be stored`, { errors: problems }));
      return;
    }
    done();
  });
}
