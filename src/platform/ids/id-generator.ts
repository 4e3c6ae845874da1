import { v7 as uuidv7 } from 'uuid';

/**
 * Time-ordered unique ids for every module. UUIDv7: 48 bits of milliseconds then 74 random bits,
 * monotonic within a process (uuid's v7 keeps a sequence for ids minted in the same millisecond),
 * and collision-free across instances without coordinating worker ids.
 */
export abstract class IdGenerator {
  abstract next(): string;
}

export class UuidV7IdGenerator extends IdGenerator {
  next(): string {
    return uuidv7();
  }
}
