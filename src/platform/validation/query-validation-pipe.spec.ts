import { BadRequestException } from '@nestjs/common';
import { QueryInt } from './int-range';
import { QueryValidationPipe } from './query-validation-pipe';

class Page {
  @QueryInt(1, 100, 10)
  limit?: number;
}

describe(QueryValidationPipe.name, () => {
  const pipe = new QueryValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true });
  const query = { type: 'query' as const, metatype: Page };

  it('answers a query text it accepted before with an equal instance of its own', async () => {
    const first = (await pipe.transform({ limit: '7' }, query)) as Page;
    const again = (await pipe.transform({ limit: '7' }, query)) as Page;
    expect(first).toBeInstanceOf(Page);
    expect(again).toBeInstanceOf(Page);
    expect(again).toEqual({ limit: 7 });
    expect(again).not.toBe(first);
    again.limit = 99;
    expect(await pipe.transform({ limit: '7' }, query)).toEqual({ limit: 7 });
  });

  it('still refuses what it refused, every time', async () => {
    for (let i = 0; i < 2; i++) {
      await expect(pipe.transform({ limit: '0' }, query)).rejects.toBeInstanceOf(BadRequestException);
      await expect(pipe.transform({ limit: '5', extra: '1' }, query)).rejects.toBeInstanceOf(BadRequestException);
    }
  });
});
