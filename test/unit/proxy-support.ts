/**
 * Helpers for the PROXY protocol tests: feed chunks to a streaming parser the way a connection
 * does, checking its buffer bound after every chunk, and describe an error for comparison.
 */
import assert from 'node:assert/strict';
import {
  DEFAULT_V2_MAX_LENGTH,
  type ProxyHeader,
  ProxyHeaderParser,
  type ProxyParseOptions,
  V1_MAX_LENGTH,
} from '../../src/proxy/index.js';

/** What feeding a connection's chunks gave: the header (if complete) and the bytes after it. */
export interface Fed {
  readonly header: ProxyHeader | undefined;
  readonly rest: Buffer;
  /** How many chunks it took to complete (0 when incomplete). */
  readonly chunksUsed: number;
}

/**
 * Feeds `chunks` to a fresh parser; chunks after the header go to `rest` untouched. Asserts that
 * the parser never holds more than its bound while it waits.
 */
export function feedChunks(chunks: readonly Buffer[], options: ProxyParseOptions = {}): Fed {
  const parser = new ProxyHeaderParser(options);
  const bound = Math.max(V1_MAX_LENGTH, options.maxV2Length ?? DEFAULT_V2_MAX_LENGTH);
  const rest: Buffer[] = [];
  let header: ProxyHeader | undefined;
  let chunksUsed = 0;
  for (const [i, chunk] of chunks.entries()) {
    if (header !== undefined) {
      rest.push(chunk);
      continue;
    }
    const result = parser.feed(chunk);
    if (result.complete) {
      header = result.header;
      rest.push(result.rest);
      chunksUsed = i + 1;
      assert.equal(parser.bufferedBytes, 0);
    } else {
      assert.ok(
        parser.bufferedBytes < bound,
        `parser holds ${parser.bufferedBytes} bytes, the bound is ${bound}`,
      );
    }
  }
  return { header, rest: Buffer.concat(rest), chunksUsed };
}

/** An error as `{ name, code, reason, limit }`, for comparing failures across splits. */
export function describeError(error: unknown): Record<string, unknown> {
  assert.ok(error instanceof Error, `expected an Error, got ${String(error)}`);
  const { reason, limit, code } = error as Error & {
    reason?: string;
    limit?: number;
    code?: string;
  };
  return { name: error.name, code, reason, limit };
}

/** The error thrown by `fn`; fails when it does not throw. */
export function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  assert.fail('expected a throw');
}
