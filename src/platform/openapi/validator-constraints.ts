import { ApiProperty, DECORATORS } from '@nestjs/swagger';
import { getMetadataStorage } from 'class-validator';
import type { ValidationMetadata } from 'class-validator/types/metadata/ValidationMetadata';

type Schema = Record<string, unknown>;

/**
 * class-validator decorators are the one source of truth for input limits: this copies what they
 * enforce (types, patterns, lengths, bounds, enums, array sizes, required) into the @nestjs/swagger
 * property metadata of the same classes before the document is built, so the document cannot
 * drift from the validators and DTOs need not repeat numbers in @ApiProperty.
 * Returns the names of the classes it saw: their schemas get `additionalProperties: false`
 * (the ValidationPipe runs with forbidNonWhitelisted).
 */
export function copyValidatorConstraints(): Set<string> {
  const byClass = (getMetadataStorage() as unknown as { validationMetadatas: Map<Function, ValidationMetadata[]> }).validationMetadatas;
  const names = new Set<string>();
  for (const [target, metas] of byClass) {
    if (typeof target !== 'function') continue;
    names.add(target.name);
    const byProperty = new Map<string, ValidationMetadata[]>();
    for (const m of metas) byProperty.set(m.propertyName, [...(byProperty.get(m.propertyName) ?? []), m]);
    for (const [property, rules] of byProperty) {
      const declared = Reflect.getMetadata(DECORATORS.API_MODEL_PROPERTIES, target.prototype, property) as Schema | undefined;
      ApiProperty(schemaPatch(rules, declared))(target.prototype, property);
    }
  }
  return names;
}

/**
 * The schema keywords one property's validators imply; `each` rules describe the array's items.
 * An array of a declared class (`@ApiProperty({ type: [Dto] })`) keeps its item reference.
 */
export function schemaPatch(rules: ValidationMetadata[], declared?: Schema): Schema {
  const own: Schema = {};
  const items: Schema = {};
  let optional = false;
  for (const r of rules) {
    if (r.type === 'conditionalValidation' && r.name === 'isOptional') optional = true;
    Object.assign(r.each ? items : own, keywordsOf(r));
  }
  const patch: Schema = { ...own, required: !optional };
  if (declared?.isArray) {
    delete patch.type;
    return patch;
  }
  if (Object.keys(items).length > 0) {
    patch.type = 'array';
    patch.isArray = false;
    patch.items = { ...((own.items as Schema | undefined) ?? {}), ...items };
  }
  return patch;
}

/** The schema keywords of each class-validator rule (by its name); other rules add none. */
const KEYWORDS: Record<string, (a: unknown, b: unknown) => Schema> = {
  isString: () => ({ type: 'string' }),
  isInt: () => ({ type: 'integer' }),
  isNumber: () => ({ type: 'number' }),
  isBoolean: () => ({ type: 'boolean' }),
  isObject: () => ({ type: 'object' }),
  isArray: () => ({ type: 'array' }),
  matches: (a) => ({ pattern: a instanceof RegExp ? a.source : String(a) }),
  isLength: (a, b) => ({ minLength: a, ...(b !== undefined ? { maxLength: b } : {}) }),
  minLength: (a) => ({ minLength: a }),
  maxLength: (a) => ({ maxLength: a }),
  min: (a) => ({ minimum: a }),
  max: (a) => ({ maximum: a }),
  isIn: (a) => ({ enum: [...(a as unknown[])] }),
  arrayMinSize: (a) => ({ minItems: a }),
  arrayMaxSize: (a) => ({ maxItems: a }),
  isUrl: () => ({ format: 'uri' }),
  // Strict ISO 8601 also takes a bare date; date-time is the form clients are told to send.
  isIso8601: () => ({ format: 'date-time' }),
};

function keywordsOf(r: ValidationMetadata): Schema {
  const [a, b] = r.constraints ?? [];
  return Object.hasOwn(KEYWORDS, r.name ?? '') ? KEYWORDS[r.name!](a, b) : {};
}
