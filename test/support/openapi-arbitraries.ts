import fc from 'fast-check';

/** The subset of OpenAPI 3.0 schema keywords the Tetrad document uses. */
export interface Schema {
  $ref?: string;
  type?: 'string' | 'integer' | 'number' | 'boolean' | 'object' | 'array';
  enum?: unknown[];
  pattern?: string;
  format?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  items?: Schema;
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean | Schema;
  nullable?: boolean;
  allOf?: Schema[];
  example?: unknown;
}

export type Components = Record<string, Schema>;

/** Keeps generated collections small: the point is variety of shape, not volume. */
const MAX_ITEMS = 3;
const MAX_STRING = 40;

export function resolve(schema: Schema, components: Components): Schema {
  let s = schema;
  while (s.$ref) s = components[s.$ref.replace('#/components/schemas/', '')];
  if (s.allOf && s.allOf.length === 1) return { ...resolve(s.allOf[0], components), ...omit(s as Record<string, unknown>, 'allOf') };
  return s;
}

/** Values the schema accepts (a valid request is built from these). */
export function validValue(schema: Schema, components: Components): fc.Arbitrary<unknown> {
  const s = resolve(schema, components);
  const base = validOf(s, components);
  return s.nullable ? fc.option(base, { nil: null, freq: 5 }) : base;
}

function validOf(s: Schema, components: Components): fc.Arbitrary<unknown> {
  if (s.enum) return fc.constantFrom(...s.enum);
  switch (s.type) {
    case 'string':
      return validString(s);
    case 'integer': {
      const min = Math.max(s.minimum ?? -1e6, Number.MIN_SAFE_INTEGER);
      const max = Math.min(s.maximum ?? 1e6, Number.MAX_SAFE_INTEGER);
      // Half the time near the minimum: quantities, counts and limits that a real client sends,
      // so creates succeed often enough for the chained reads and actions to find resources.
      return fc.oneof(fc.integer({ min, max: Math.min(max, min + 4) }), fc.integer({ min, max }));
    }
    case 'number':
      // Two decimals at most: money fields allow no more, and every other number takes them.
      return fc.integer({ min: Math.ceil((s.minimum ?? -1e6) * 100), max: Math.floor(Math.min(s.maximum ?? 1e6, 1e12) * 100) }).map((n) => n / 100);
    case 'boolean':
      return fc.boolean();
    case 'array':
      return fc.array(validValue(s.items ?? {}, components), { minLength: s.minItems ?? 0, maxLength: Math.min(s.maxItems ?? MAX_ITEMS, Math.max(s.minItems ?? 0, MAX_ITEMS)) });
    case 'object':
    default:
      if (!s.properties) return freeObject();
      return fc.record(
        Object.fromEntries(Object.entries(s.properties).map(([k, v]) => [k, validValue(v, components)])),
        { requiredKeys: s.required ?? [] },
      );
  }
}

function validString(s: Schema): fc.Arbitrary<string> {
  const min = s.minLength ?? 0;
  const max = Math.min(s.maxLength ?? MAX_STRING, Math.max(min, MAX_STRING));
  if (s.pattern) return fc.stringMatching(new RegExp(s.pattern)).filter((v) => v.length >= min && v.length <= (s.maxLength ?? Infinity));
  if (s.format === 'date-time') return fc.date({ min: new Date('2001-01-01'), max: new Date('2099-01-01'), noInvalidDate: true }).map((d) => d.toISOString());
  if (s.format === 'uri') return fc.webUrl({ validSchemes: ['https'] });
  return fc.string({ minLength: min, maxLength: max });
}

function freeObject(): fc.Arbitrary<Record<string, unknown>> {
  return fc.dictionary(fc.stringMatching(/^[a-z]{1,8}$/), fc.oneof(fc.string({ maxLength: 8 }), fc.integer(), fc.boolean()), { maxKeys: 3 });
}

/** Inputs chosen to break things: bytes PostgreSQL refuses, extreme numbers, deep nesting, odd types. */
export const HOSTILE_STRINGS = ['a\u0000b', '\ud800', '', ' ', 'x'.repeat(300), '../../etc/passwd', "' OR 1=1 --", '%00', '日本語', '\u202e', '0'];
export const HOSTILE_NUMBERS = [1e-7, 5e-324, -1, 0, 1e19, 1e20, -1e20, 2 ** 53, 1.5, 1e308];
export const HOSTILE_VALUES: unknown[] = [null, true, [], {}, [1, 2], { a: { b: 1 } }, ...HOSTILE_STRINGS, ...HOSTILE_NUMBERS];

/** A value that breaks one rule of the schema (or, at random, any hostile value). */
export function invalidValue(schema: Schema, components: Components): fc.Arbitrary<unknown> {
  const s = resolve(schema, components);
  const options: fc.Arbitrary<unknown>[] = [fc.constantFrom(...HOSTILE_VALUES)];
  if (s.type === 'string' || s.pattern) options.push(fc.constantFrom(...HOSTILE_STRINGS), fc.string({ unit: 'binary', maxLength: 20 }));
  if (s.type === 'integer' || s.type === 'number') {
    options.push(fc.constantFrom(...HOSTILE_NUMBERS));
    if (s.maximum !== undefined) options.push(fc.constant(s.maximum + 1));
    if (s.minimum !== undefined) options.push(fc.constant(s.minimum - 1));
  }
  if (s.type === 'object' && s.properties) {
    const keys = Object.keys(s.properties);
    options.push(
      validValue(s, components).map((v) => ({ ...(v as object), unknownField: 1 })),
      ...(s.required?.length ? [validValue(s, components).map((v) => omit(v as Record<string, unknown>, s.required![0]))] : []),
      fc
        .tuple(validValue(s, components), fc.constantFrom(...keys))
        .chain(([v, k]) => invalidValue(s.properties![k], components).map((bad) => ({ ...(v as object), [k]: bad }))),
      fc.constant(deepNesting(3000)),
    );
  }
  if (s.type === 'array') {
    options.push(fc.constant(new Array((s.maxItems ?? 1000) + 1).fill(0)));
    if (s.items) options.push(invalidValue(s.items, components).map((bad) => [bad]));
  }
  return fc.oneof(...options);
}

export function deepNesting(depth: number): unknown {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = { a: v };
  return v;
}

function omit<T extends Record<string, unknown>>(o: T, key: string): T {
  const { [key]: _dropped, ...rest } = o;
  return rest as T;
}
