import type { Type } from '@nestjs/common';
import { equals, getMetadataStorage, isInt, isNotEmpty, isObject, isString, max, min } from 'class-validator';

type Check = (value: unknown) => boolean;

/** class-validator's own test functions, by decorator name, for the rules a compiled check may use. */
const RULES: Record<string, (constraints: unknown[]) => Check> = {
  isString: () => isString,
  isNotEmpty: () => isNotEmpty,
  isInt: () => isInt,
  min: ([bound]) => (v) => min(v, bound as number),
  max: ([bound]) => (v) => max(v, bound as number),
  isObject: () => isObject,
  equals: ([c]) => (v) => equals(v, c),
};

/**
 * A DTO's class-validator rules compiled once into a plain check, for what is validated by the
 * thousand (event-bus messages: class-validator cost ~10× JSON.parse per message and most of a
 * leaderboard worker's garbage, issue 14). class-validator stays the one statement of the rules: its
 * metadata is what is compiled; a DTO with any rule or option not in RULES (nesting, `each`, groups,
 * ValidateIf, custom validators) is not compiled (undefined); and a value the check refuses goes to
 * class-validator anyway, for its messages. An accepted value comes back as an instance of the DTO
 * holding only the decorated properties, as plainToInstance + validate with `whitelist` leaves it.
 */
export function compileDto<T extends object>(type: Type<T>): ((plain: Record<string, unknown>) => T | undefined) | undefined {
  const byProperty = new Map<string, { optional: boolean; checks: Check[] }>();
  for (const m of getMetadataStorage().getTargetValidationMetadatas(type, '', true, false)) {
    const p = byProperty.get(m.propertyName) ?? { optional: false, checks: [] };
    byProperty.set(m.propertyName, p);
    if (m.each || m.always || (m.groups?.length ?? 0) > 0) return undefined;
    if (m.type === 'conditionalValidation' && m.name === 'isOptional') p.optional = true;
    else if (m.type === 'customValidation' && m.name !== undefined && Object.hasOwn(RULES, m.name)) p.checks.push(RULES[m.name](m.constraints ?? []));
    else return undefined;
  }
  const properties = [...byProperty];
  return (plain) => {
    const dto = new type() as Record<string, unknown>;
    for (const [name, { optional, checks }] of properties) {
      const v = plain[name];
      if (optional && (v === null || v === undefined)) {
        if (name in plain) dto[name] = v;
        continue;
      }
      for (const check of checks) if (!check(v)) return undefined;
      dto[name] = v;
    }
    return dto as T;
  };
}
