/**
 * Helpers for the codec tests: hex fixtures, cutting a stream into reads, and feeding a decoder
 * the way a server does while checking its buffer bound after every read.
 */
import assert from 'node:assert/strict';
import type { Decoder } from '../../src/codecs/index.js';

/** Bytes from hex, spaces allowed: `hex('00 03 61 62 63')`. */
export function hex(text: string): Buffer {
  return Buffer.from(text.replace(/\s+/g, ''), 'hex');
}

/** `bytes` cut at the given positions (any order, duplicates and ends allowed), as separate copies. */
export function cut(bytes: Uint8Array, positions: readonly number[]): Buffer[] {
  const cuts = [...new Set(positions)]
    .filter((p) => p > 0 && p < bytes.length)
    .sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let from = 0;
  for (const to of [...cuts, bytes.length]) {
    // A copy per read, as a socket hands out: a view would let one test's frames alias another's.
    chunks.push(Buffer.from(bytes.subarray(from, to)));
    from = to;
  }
  return chunks;
}

/** Every byte on its own. */
export function bytewise(bytes: Uint8Array): Buffer[] {
  return Array.from(bytes, (byte) => Buffer.of(byte));
}

/**
 * Pushes each chunk and pulls every frame, as a server does per read; then, with `atEof`,
 * drains `end()`. With `bound`, asserts after every read that the decoder holds no more.
 */
export function feed<F>(
  decoder: Decoder<F>,
  chunks: Iterable<Buffer>,
  options: { bound?: number; atEof?: boolean } = {},
): F[] {
  const frames: F[] = [];
  for (const chunk of chunks) {
    decoder.push(chunk);
    for (let frame = decoder.next(); frame !== undefined; frame = decoder.next())
      frames.push(frame);
    if (options.bound !== undefined) {
      assert.ok(
        decoder.bufferedBytes <= options.bound,
        `buffered ${decoder.bufferedBytes} bytes, over the bound of ${options.bound}`,
      );
    }
  }
  if (options.atEof === true) {
    for (let frame = decoder.end(); frame !== undefined; frame = decoder.end()) frames.push(frame);
    assert.equal(decoder.bufferedBytes, 0, 'end() left bytes behind');
  }
  return frames;
}

/** Frames as hex strings, for readable assertion failures. */
export function hexes(frames: readonly Uint8Array[]): string[] {
  return frames.map((frame) => Buffer.from(frame).toString('hex'));
}

/** Frames as UTF-8 strings. */
export function texts(frames: readonly Uint8Array[]): string[] {
  return frames.map((frame) => Buffer.from(frame).toString('utf8'));
}

/**
 * Whether `frame` shares memory with `chunk` (a zero-copy view). Comparing `.buffer` alone is
 * not enough: small Buffers are slices of one shared 8 KiB pool.
 */
export function isViewOf(frame: Uint8Array, chunk: Uint8Array): boolean {
  return (
    frame.buffer === chunk.buffer &&
    frame.byteOffset >= chunk.byteOffset &&
    frame.byteOffset + frame.length <= chunk.byteOffset + chunk.length
  );
}
