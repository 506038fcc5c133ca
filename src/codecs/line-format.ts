/**
 * The line format shared by the line decoder and encoder: which bytes end a line, whether a
 * `\r` before `\n` is part of the line ending, and the longest line allowed.
 */
import { Buffer } from 'node:buffer';
import { DEFAULT_LINE_MAX } from '../constants.js';
import { FrameInvalidError, FrameTooLargeError, InvalidArgumentError } from '../errors.js';
import { checkLimit } from './option-checks.js';

/** `\r`, stripped before a `\n` delimiter. */
export const CR = 0x0d;

/** `\n`, the default delimiter. */
const NEWLINE = 0x0a;

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

/**
 * {@link LineFormatOptions} with every default applied and checked. Formats are immutable and
 * shared: connections made with the same common options use one object (see `resolveLineFormat`).
 */
export interface LineFormat {
  readonly delimiter: Buffer;
  readonly stripCarriageReturn: boolean;
  readonly maxLength: number;
  /** Bytes a line may have buffered without its line ending and still fit: room for a `\r`. */
  readonly slack: number;
}

/**
 * Resolved formats for options whose delimiter is a string (the usual case), by delimiter,
 * stripping and limit. A server makes a codec per connection, and each would otherwise carry
 * its own format object and delimiter buffer: about 250 bytes of an otherwise idle connection.
 * Bounded, so a program that makes codecs with ever-changing limits does not grow it.
 */
const sharedFormats = new Map<string, LineFormat>();
const SHARED_FORMATS_MAX = 64;

/** Applies defaults and throws `InvalidArgumentError` for options out of their domain. */
export function resolveLineFormat(options: LineFormatOptions): LineFormat {
  const given = options.delimiter ?? '\n';
  const { stripCarriageReturn: strip, maxLength: max } = options;
  if (
    typeof given !== 'string' ||
    (strip !== undefined && typeof strip !== 'boolean') ||
    (max !== undefined && typeof max !== 'number')
  ) {
    return makeFormat(given, options);
  }
  // Unambiguous: only the delimiter, last, can hold a NUL.
  const key = `${strip}\0${max}\0${given}`;
  const shared = sharedFormats.get(key);
  if (shared !== undefined) return shared;
  const format = makeFormat(given, options);
  if (sharedFormats.size < SHARED_FORMATS_MAX) sharedFormats.set(key, format);
  return format;
}

/**
 * Checks the options around `given`, of which the format keeps a private copy (a string as
 * UTF-8): a caller who later changes its array cannot change the format.
 */
function makeFormat(given: string | Uint8Array, options: LineFormatOptions): LineFormat {
  const delimiter = typeof given === 'string' ? Buffer.from(given, 'utf8') : Buffer.from(given);
  if (delimiter.length === 0) throw new InvalidArgumentError('delimiter must not be empty');
  const isNewline = delimiter.length === 1 && delimiter[0] === NEWLINE;
  const stripCarriageReturn = options.stripCarriageReturn ?? isNewline;
  if (typeof stripCarriageReturn !== 'boolean') {
    throw new InvalidArgumentError(
      `stripCarriageReturn must be true or false, got ${String(stripCarriageReturn)}`,
    );
  }
  if (stripCarriageReturn && !isNewline) {
    throw new InvalidArgumentError(
      "stripCarriageReturn needs the '\\n' delimiter; use delimiter: '\\r\\n' for strict CRLF",
    );
  }
  const maxLength = options.maxLength ?? DEFAULT_LINE_MAX;
  checkLimit('maxLength', maxLength, delimiter.length + 1);
  const slack = stripCarriageReturn ? 1 : 0;
  return Object.freeze({ delimiter, stripCarriageReturn, maxLength, slack });
}

/**
 * `line` plus the format's delimiter, after checking that a decoder of the same format would
 * give the line back unchanged.
 */
export function encodeLine(format: LineFormat, line: Uint8Array | string): Buffer {
  const { delimiter, maxLength } = format;
  const length = typeof line === 'string' ? Buffer.byteLength(line, 'utf8') : line.length;
  if (length > maxLength) throw new FrameTooLargeError(maxLength, length);
  const out = Buffer.allocUnsafe(length + delimiter.length);
  if (typeof line === 'string') out.write(line, 0, 'utf8');
  else out.set(line, 0);
  out.set(delimiter, length);
  // Searching the output, not the line, also catches a line whose tail and the delimiter
  // together form an earlier delimiter (`ab` + `aba` decodes as an empty line).
  if (out.indexOf(delimiter) !== length) {
    throw new FrameInvalidError('a line must not contain its delimiter');
  }
  if (format.stripCarriageReturn && length > 0 && out[length - 1] === CR) {
    throw new FrameInvalidError("a line must not end with '\\r' when the decoder strips it");
  }
  return out;
}
