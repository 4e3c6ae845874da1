/**
 * True when the JSON text nests arrays/objects deeper than `max`. A byte scan, run before
 * JSON.parse: class-transformer and class-validator recurse once per level, so a 4 KB body of
 * 2,000 brackets would overflow their stack. Brackets inside strings are text, not nesting; the
 * scan works on UTF-8 bytes because every byte of a multi-byte character is >= 0x80.
 */
export function jsonNestsDeeperThan(body: Buffer, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped byte
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return false;
}
