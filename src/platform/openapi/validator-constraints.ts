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

function keywordsOf(r: ValidationMetadata): Schema {
  const [a, b] = r.constraints ?? [];
  switch (r.name) {
    case 'isString':
      return { type: 'string' };
    case 'isInt':
      return { type: 'integer' };
    case 'isNumber':
      return { type: 'number' };
    case 'isBoolean':
      return { type: 'boolean' };
    case 'isObject':
      return { type: 'object' };
    case 'isArray':
      return { type: 'array' };
    case 'matches':
      return { pattern: a instanceof RegExp ? a.source : String(a) };
    case 'isLength':
      return { minLength: a, ...(b !== undefined ? { maxLength: b } : {}) };
    case 'minLength':
      return { minLength: a };
    case 'maxLength':
      return { maxLength: a };
    case 'min':
      return { minimum: a };
    case 'max':
      return { maximum: a };
    case 'isIn':
      return { enum: [...(a as unknown[])] };
    case 'arrayMinSize':
      return { minItems: a };
    case 'arrayMaxSize':
      return { maxItems: a };
    case 'isUrl':
      return { format: 'uri' };
    // Strict ISO 8601 also takes a bare date; date-time is the form clients are told to send.
    case 'isIso8601':
      return { format: 'date-time' };
    default:
      return {};
  }
}
