/**
 * Inventory invariant checker: every unit is in exactly one of AVAILABLE / HELD / SOLD,
 * available + held + sold = capacity, and (when the expected ids are given) no unknown or missing unit.
 */
export interface InventorySnapshot {
  capacity: number;
  available: readonly string[];
  held: readonly string[];
  sold: readonly string[];
}

export type InventoryViolation =
  | { type: 'COUNT_MISMATCH'; capacity: number; total: number }
  | { type: 'DUPLICATE'; seatId: string; states: string[] }
  | { type: 'UNKNOWN_SEAT'; seatId: string }
  | { type: 'MISSING_SEAT'; seatId: string };

export function checkInventory(snapshot: InventorySnapshot, expectedSeatIds?: Iterable<string>): InventoryViolation[] {
  const violations: InventoryViolation[] = [];
  const total = snapshot.available.length + snapshot.held.length + snapshot.sold.length;
  if (total !== snapshot.capacity) violations.push({ type: 'COUNT_MISMATCH', capacity: snapshot.capacity, total });

  const seen = new Map<string, string[]>();
  for (const [state, ids] of [
    ['AVAILABLE', snapshot.available],
    ['HELD', snapshot.held],
    ['SOLD', snapshot.sold],
  ] as const) {
    for (const id of ids) {
      const states = seen.get(id);
      if (states) states.push(state);
      else seen.set(id, [state]);
    }
  }
  for (const [seatId, states] of seen) if (states.length > 1) violations.push({ type: 'DUPLICATE', seatId, states });

  if (expectedSeatIds !== undefined) {
    const expected = new Set(expectedSeatIds);
    for (const id of seen.keys()) if (!expected.has(id)) violations.push({ type: 'UNKNOWN_SEAT', seatId: id });
    for (const id of expected) if (!seen.has(id)) violations.push({ type: 'MISSING_SEAT', seatId: id });
  }
  return violations;
}

/** GA / counter form of the invariant, for sections tracked by counts only. */
export function checkCounts(c: { capacity: number; available: number; held: number; sold: number }): boolean {
  return [c.available, c.held, c.sold].every((n) => Number.isInteger(n) && n >= 0) && c.available + c.held + c.sold === c.capacity;
}
