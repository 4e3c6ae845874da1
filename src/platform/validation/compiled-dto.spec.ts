import { plainToInstance } from 'class-transformer';
import { Equals, IsInt, IsNotEmpty, IsObject, IsOptional, IsString, Max, Min, ValidateIf, ValidateNested, validateSync } from 'class-validator';
import { compileDto } from './compiled-dto';

class Message {
  @IsString() @IsNotEmpty() id!: string;
  @IsInt() @Min(-5) @Max(5) n!: number;
  @IsOptional() @IsObject() meta?: Record<string, unknown>;
  @IsOptional() @Equals(true) flag?: true;
}

/** What the event-bus transport did for every message before: class-transformer + class-validator. */
function byClassValidator(plain: object): object | undefined {
  const dto = plainToInstance(Message, plain);
  return validateSync(dto, { whitelist: true, forbidUnknownValues: true }).length === 0 ? dto : undefined;
}

describe(compileDto.name, () => {
  const compiled = compileDto(Message)!;

  it('accepts and refuses exactly what class-validator does, and leaves the same instance', () => {
    const samples: Record<string, unknown>[] = [
      { id: 'a', n: 0 },
      { id: 'a', n: 5, meta: { x: [1] }, flag: true, extra: 'dropped' },
      { id: 'a', n: -5, meta: null, flag: null },
      { id: '', n: 0 },
      { id: 1, n: 0 },
      { n: 0 },
      { id: 'a', n: 6 },
      { id: 'a', n: 1.5 },
      { id: 'a', n: '1' },
      { id: 'a', n: 0, meta: [] },
      { id: 'a', n: 0, meta: 'x' },
      { id: 'a', n: 0, flag: false },
      { id: 'a' },
    ];
    for (const plain of samples) {
      const expected = byClassValidator(plain);
      const got = compiled(plain);
      expect([plain, got === undefined]).toEqual([plain, expected === undefined]);
      if (got) {
        expect(got).toBeInstanceOf(Message);
        expect({ ...got }).toEqual({ ...expected });
      }
    }
  });

  it('compiles nothing for rules it does not know, so class-validator keeps them', () => {
    class Nested {
      @ValidateNested() inner!: Message;
    }
    class Conditional {
      @ValidateIf((o: { on?: boolean }) => o.on === true) @IsString() name?: string;
    }
    class Each {
      @IsString({ each: true }) names!: string[];
    }
    expect(compileDto(Nested)).toBeUndefined();
    expect(compileDto(Conditional)).toBeUndefined();
    expect(compileDto(Each)).toBeUndefined();
  });
});
