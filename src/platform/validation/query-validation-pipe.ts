import { ArgumentMetadata, Type, ValidationPipe } from '@nestjs/common';

const MAX_REMEMBERED = 256;

/**
 * Nest's ValidationPipe, remembering the query strings it accepted. A query DTO's outcome is a pure
 * function of the query's text, and hot read routes see the same few (`?limit=100`): class-transformer
 * and class-validator took ~11% of the CPU of a cached leaderboard page (issue 14). Rejections are not
 * remembered (they throw as before); each request gets its own copy of the remembered instance.
 */
export class QueryValidationPipe extends ValidationPipe {
  private readonly accepted = new Map<Type, Map<string, object>>();

  override transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const metatype = metadata.metatype;
    if (metadata.type !== 'query' || !metatype || !this.toValidate(metadata) || value === null || typeof value !== 'object') {
      return super.transform(value, metadata);
    }
    const key = JSON.stringify(value);
    const known = this.accepted.get(metatype)?.get(key);
    if (known) return Promise.resolve(copy(known));
    return super.transform(value, metadata).then((entity: object) => {
      let byText = this.accepted.get(metatype);
      if (!byText) this.accepted.set(metatype, (byText = new Map()));
      if (byText.size >= MAX_REMEMBERED) byText.clear();
      byText.set(key, copy(entity));
      return entity;
    });
  }
}

const copy = (o: object): object => Object.assign(Object.create(Object.getPrototypeOf(o) as object) as object, o);
