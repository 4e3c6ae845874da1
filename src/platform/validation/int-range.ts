import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';

/** An integer in [min, max] (`@IsInt() @Min(min) @Max(max)`); the OpenAPI bounds are copied from these validators. */
export function IntRange(min: number, max: number): PropertyDecorator {
  return applyDecorators(IsInt(), Min(min), Max(max));
}

/**
 * An optional integer query parameter in [min, max] (`?limit=50`): converted from its text, then
 * validated. Query strings only: on a JSON body the conversion would let "5" pass as 5.
 */
export function QueryInt(min: number, max: number, defaultValue?: number): PropertyDecorator {
  return applyDecorators(ApiPropertyOptional(defaultValue === undefined ? {} : { default: defaultValue }), IsOptional(), Type(() => Number), IntRange(min, max));
}
