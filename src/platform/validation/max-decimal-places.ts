import { ValidateBy, ValidationOptions } from 'class-validator';

/**
 * A number with at most `places` decimals, judged by value: 49.99 passes, 1e-7 and 5e-324 fail.
 * class-validator's own IsNumber({ maxDecimalPlaces }) reads the decimals off toString() and
 * throws a TypeError (a 500) on exponent notation such as 1e-7.
 */
export function MaxDecimalPlaces(places: number, options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'maxDecimalPlaces',
      constraints: [places],
      validator: {
        validate: (value: unknown) => typeof value === 'number' && Number.isFinite(value) && Number(value.toFixed(places)) === value,
        defaultMessage: (args) => `${args?.property ?? 'value'} must have at most ${places} decimal places`,
      },
    },
    options,
  );
}
