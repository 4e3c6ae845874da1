import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional, ApiPropertyOptions } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Length, Matches, Max, Min, ValidationOptions } from 'class-validator';

/**
 * Property decorators applied as if written one above the other in this order (TypeScript applies
 * the lowest first), so a composed one registers its rules, and reports their problems, as the
 * written stack did.
 */
export const stacked =
  (...decorators: PropertyDecorator[]): PropertyDecorator =>
  (target, key) => [...decorators].reverse().forEach((d) => d(target, key));

/** An integer in [min, max]; the OpenAPI bounds are copied from these validators. */
export const IntRange = (min: number, max: number) => stacked(IsInt(), Min(min), Max(max));
/** A string matching `pattern`. */
export const StringMatching = (pattern: RegExp, options?: ValidationOptions) => stacked(IsString(), Matches(pattern, options));
/** A string of min..max characters. */
export const StringLength = (min: number, max: number) => stacked(IsString(), Length(min, max));
/** Optional in the OpenAPI schema and in validation alike, so the two cannot disagree; when present, the rules below it apply. */
export const OptionalProperty = (options?: ApiPropertyOptions) => stacked(ApiPropertyOptional(options), IsOptional());

/**
 * An optional integer query parameter in [min, max] (`?limit=50`): converted from its text, then
 * validated. Query strings only: on a JSON body the conversion would let "5" pass as 5.
 */
export function QueryInt(min: number, max: number, defaultValue?: number): PropertyDecorator {
  return applyDecorators(OptionalProperty(defaultValue === undefined ? {} : { default: defaultValue }), Type(() => Number), IsInt(), Min(min), Max(max));
}
