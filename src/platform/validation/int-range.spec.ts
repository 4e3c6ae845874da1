import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { IntRange, QueryInt } from './int-range';

class Sample {
  @IntRange(1, 10)
  count!: number;

  @QueryInt(1, 500, 50)
  limit?: number;
}

const problems = (plain: object) => validateSync(plainToInstance(Sample, plain)).map((e) => e.property);

describe(IntRange.name, () => {
  it('accepts integers in range, refuses fractions, out-of-range values and text in a body', () => {
    expect(problems({ count: 1 })).toEqual([]);
    expect(problems({ count: 10 })).toEqual([]);
    for (const count of [0, 11, 2.5, '5']) expect(problems({ count })).toEqual(['count']);
  });
});

describe(QueryInt.name, () => {
  it('is optional, converts query text to a number, and bounds it', () => {
    expect(problems({ count: 1 })).toEqual([]);
    expect(plainToInstance(Sample, { count: 1, limit: '20' }).limit).toBe(20);
    expect(problems({ count: 1, limit: '20' })).toEqual([]);
    for (const limit of ['0', '501', '2.5', 'x']) expect(problems({ count: 1, limit })).toEqual(['limit']);
  });
});
