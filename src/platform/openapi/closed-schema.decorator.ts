/** Names of documentation-only classes whose validator (not class-validator) refuses unknown fields. */
export const closedSchemas = new Set<string>();

/**
 * Marks a schema class `additionalProperties: false` when its input is checked by hand-written code
 * that refuses unknown fields (class-validator DTOs get this from contract-document by themselves).
 */
export function ClosedSchema(): ClassDecorator {
  return (target) => {
    closedSchemas.add(target.name);
  };
}
