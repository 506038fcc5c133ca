/**
 * `parseProxyHeader`: the pure, one-shot parser. Give it the bytes received so far; it says
 * "need more" (and how many bytes at least), or returns the header and its length, or throws a
 * typed error. The streaming `ProxyHeaderParser` is built on it.
 *
 * Which version: a first byte `P` means v1 (`PROXY`), `\r` means v2 (its signature); anything
 * else is refused at once. Every check is made as soon as the bytes it needs are in, in byte
 * order, so the outcome never depends on how the input was split — only how early it shows.
 *
 * Bounds: a v1 line must end (CRLF) within 107 bytes; a v2 header may not declare more than
 * `maxV2Length` bytes. Either way `FrameTooLargeError`, seen before the excess is buffered.
 */
import { FrameTooLargeError, InvalidArgumentError } from '../errors.js';
import {
  DEFAULT_V2_MAX_LENGTH,
  V1_MAX_LENGTH,
  V1_SIGNATURE,
  V2_FIXED_LENGTH,
  V2_HARD_MAX_LENGTH,
} from './constants.js';
import { ProxyProtocolError } from './errors.js';
import type { ProxyHeader } from './header.js';
import { hex } from './tlv.js';
import { parseV1Line } from './v1.js';
import { checkV2Prefix, decodeV2 } from './v2.js';

/** Options of the parsers. */
export interface ProxyParseOptions {
  /**
   * Largest v2 header accepted, in bytes: the 16-byte fixed part, the addresses and the TLVs.
   * From 16 to 65551 (the most the 16-bit length field can say).
   * @default 4096
   */
  readonly maxV2Length?: number;
}

/** What `parseProxyHeader` found at the start of its input. */
export type ProxyParseResult =
  | {
      readonly complete: true;
      readonly header: ProxyHeader;
      /** Bytes the header took; what follows belongs to the application. */
      readonly length: number;
    }
  | {
      readonly complete: false;
      /** The input must grow to at least this many bytes before anything new can be said. */
      readonly need: number;
    };

const CR = 0x0d;
const LF = 0x0a;
const SPACE = 0x20;

/**
 * Parses the PROXY header at the start of `bytes` (v1 or v2).
 * @throws ProxyProtocolError when the bytes cannot be a valid header (`reason` says why).
 * @throws FrameTooLargeError for a v1 line without CRLF in 107 bytes, or a v2 header over
 * `maxV2Length`.
 * @throws InvalidArgumentError for bad options.
 */
export function parseProxyHeader(
  bytes: Uint8Array,
  options: ProxyParseOptions = {},
): ProxyParseResult {
  return parseWithLimit(bytes, resolveMaxV2Length(options));
}

/** `parseProxyHeader` with its bound already checked (for the streaming parser). */
export function parseWithLimit(bytes: Uint8Array, maxV2Length: number): ProxyParseResult {
  if (bytes.length === 0) return { complete: false, need: 1 };
  const first = bytes[0]!;
  if (first === V1_SIGNATURE[0]) return parseV1(bytes);
  if (first === CR) return parseV2(bytes, maxV2Length);
  throw new ProxyProtocolError(
    'signature',
    `byte 0 is 0x${hex(first)}: neither the v1 nor the v2 signature`,
  );
}

/** Checks and returns the v2 bound. */
export function resolveMaxV2Length(options: ProxyParseOptions): number {
  const max = options.maxV2Length ?? DEFAULT_V2_MAX_LENGTH;
  if (!Number.isSafeInteger(max) || max < V2_FIXED_LENGTH || max > V2_HARD_MAX_LENGTH) {
    throw new InvalidArgumentError(
      `maxV2Length must be a whole number from ${V2_FIXED_LENGTH} to ${V2_HARD_MAX_LENGTH}, got ${max}`,
    );
  }
  return max;
}

function parseV1(bytes: Uint8Array): ProxyParseResult {
  const available = bytes.length;
  const signatureEnd = Math.min(available, V1_SIGNATURE.length);
  for (let i = 1; i < signatureEnd; i++) {
    if (bytes[i] !== V1_SIGNATURE[i]) {
      throw new ProxyProtocolError(
        'signature',
        `byte ${i} is 0x${hex(bytes[i]!)}: neither the v1 nor the v2 signature`,
      );
    }
  }
  if (available <= V1_SIGNATURE.length) return { complete: false, need: available + 1 };
  if (bytes[V1_SIGNATURE.length] !== SPACE) {
    throw new ProxyProtocolError('syntax', 'v1 "PROXY" must be followed by one space');
  }
  // The line ends at the first CR or LF, which must be a CR followed by an LF, within the limit.
  const scanEnd = Math.min(available, V1_MAX_LENGTH);
  for (let i = V1_SIGNATURE.length + 1; i < scanEnd; i++) {
    const byte = bytes[i]!;
    if (byte === LF) {
      throw new ProxyProtocolError('syntax', `v1 line has a bare LF at byte ${i}, not CRLF`);
    }
    if (byte !== CR) continue;
    if (i + 2 > V1_MAX_LENGTH) break; // no room left for the LF
    if (i + 1 === available) return { complete: false, need: i + 2 };
    if (bytes[i + 1] !== LF) {
      throw new ProxyProtocolError('syntax', `v1 line has a bare CR at byte ${i}, not CRLF`);
    }
    return { complete: true, header: parseV1Line(bytes, i), length: i + 2 };
  }
  if (available >= V1_MAX_LENGTH) throw new FrameTooLargeError(V1_MAX_LENGTH, available);
  return { complete: false, need: available + 1 };
}

function parseV2(bytes: Uint8Array, maxV2Length: number): ProxyParseResult {
  const available = bytes.length;
  const total = checkV2Prefix(bytes, available);
  if (total === undefined) {
    // Every byte of the fixed part may show an error: look again at the next one.
    return { complete: false, need: available + 1 };
  }
  if (total > maxV2Length) throw new FrameTooLargeError(maxV2Length, total);
  if (available < total) return { complete: false, need: total };
  return { complete: true, header: decodeV2(bytes, total), length: total };
}
