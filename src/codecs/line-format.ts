/**
 * The line format shared by the line decoder and encoder: which bytes end a line, whether a
 * `\r` before `\n` is part of the line ending, and the longest line allowed.
 */
import { DEFAULT_LINE_MAX } from '../constants.js';
import { InvalidArgumentError } from '../errors.js';
import { checkLimit } from './option-checks.js';

/** `\r`, stripped before a `\n` delimiter. */
export const CR = 0x0d;

const NEWLINE = Buffer.from('\n');

/** Options that both sides of a line codec must agree on. */
export interface LineFormatOptions {
  /**
   * The bytes that end a line; a string is taken as UTF-8. Any non-empty sequence works, and a
   * multi-byte delimiter is found even when it is split across reads.
   * @default '\n'
   */
  delimiter?: string | Uint8Array;

  /**
   * Treat a `\r` just before the `\n` as part of the line ending, so `a\r\n` and `a\n` both
   * decode to `a` (the lenient reading of RFC 5321 §2.3.8 and most line protocols). Only
   * allowed with the `\n` delimiter; for strict CRLF use `delimiter: '\r\n'`.
   * @default true when the delimiter is `\n`, else false
   */
  stripCarriageReturn?: boolean;

  /**
   * The longest line, in bytes, not counting its line ending. A longer line is a
   * `FrameTooLargeError`; the decoder never buffers more than this plus the line ending.
   * @default DEFAULT_LINE_MAX (64 KiB)
   */
  maxLength?: number;
}

/** {@link LineFormatOptions} with every default applied and checked. */
export interface LineFormat {
  readonly delimiter: Buffer;
  readonly stripCarriageReturn: boolean;
  readonly maxLength: number;
}

/** Applies defaults and throws `InvalidArgumentError` for options out of their domain. */
export function resolveLineFormat(options: LineFormatOptions): LineFormat {
  const delimiter = toBytes(options.delimiter ?? NEWLINE);
  if (delimiter.length === 0) throw new InvalidArgumentError('delimiter must not be empty');
  const isNewline = delimiter.length === 1 && delimiter[0] === NEWLINE[0];
  const stripCarriageReturn = options.stripCarriageReturn ?? isNewline;
  if (stripCarriageReturn && !isNewline) {
    throw new InvalidArgumentError(
      "stripCarriageReturn needs the '\\n' delimiter; use delimiter: '\\r\\n' for strict CRLF",
    );
  }
  const maxLength = options.maxLength ?? DEFAULT_LINE_MAX;
  checkLimit('maxLength', maxLength, delimiter.length + 1);
  return { delimiter, stripCarriageReturn, maxLength };
}

/** A private copy, so a caller who later changes its array cannot change the delimiter. */
function toBytes(value: string | Uint8Array): Buffer {
  return typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value);
}
