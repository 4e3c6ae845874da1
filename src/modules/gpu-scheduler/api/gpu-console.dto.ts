import { Type } from 'class-transformer';
import { IntRange, OptionalProperty } from '../../../platform/validation/int-range';

export class RecentTasksQueryDto {
  @OptionalProperty({ default: 20, minimum: 1, maximum: 100 })
  @Type(() => Number)
  @IntRange(1, 100)
  limit?: number;
}
