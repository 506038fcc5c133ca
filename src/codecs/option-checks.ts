/**
 * Checks for the numeric options of the codecs. A bad option is misuse, thrown at once as
 * `InvalidArgumentError` when the codec is built, never discovered later on a live connection.
 */
import { constants } from 'node:buffer';
import { InvalidArgumentError } from '../errors.js';

/** `value` must be an integer from 0 up to `Number.MAX_SAFE_INTEGER`. */
export function checkNonNegativeInteger(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new InvalidArgumentError(`${name} must be a non-negative integer, got ${value}`);
  }
}

/** `value` must be an integer within ±`Number.MAX_SAFE_INTEGER`. */
export function checkInteger(name: string, value: number): void {
  if (!Number.isSafeInteger(value)) {
    throw new InvalidArgumentError(`${name} must be an integer, got ${value}`);
  }
}

/**
 * `value` is a maximum frame size: a non-negative integer such that a frame of that size plus
 * its `overhead` (header, delimiter) still fits in one Buffer, since a frame that spans reads is
 * copied into one.
 */
export function checkLimit(name: string, value: number, overhead: number): void {
  checkNonNegativeInteger(name, value);
  if (value + overhead > constants.MAX_LENGTH) {
    throw new InvalidArgumentError(
      `${name} of ${value} bytes plus ${overhead} bytes of framing exceeds the largest Buffer (${constants.MAX_LENGTH})`,
    );
  }
}
