/**
 * `ProxyHeaderParser`: the streaming form of `parseProxyHeader`, for a connection's first reads.
 * Feed it each chunk as it arrives; it answers "need more", or the header plus the bytes after
 * it (the application's). It never holds more than the bound (107 bytes for v1, `maxV2Length`
 * for v2) while it waits, and it re-parses only when enough bytes arrived to say something new
 * (one per byte for v1 and the v2 fixed part; once for a v2 body of known length).
 *
 * Errors are final, as with the codecs: once `feed` has thrown, the buffer is dropped and every
 * later call throws the same error.
 */
import { Buffer } from 'node:buffer';
import { InvalidArgumentError } from '../errors.js';
import type { ProxyHeader } from './header.js';
import {
  type ProxyParseOptions,
  type ProxyParseResult,
  parseWithLimit,
  resolveMaxV2Length,
} from './parse.js';

/** What one `feed` gave. */
export type ProxyFeedResult =
  | { readonly complete: false }
  | {
      readonly complete: true;
      readonly header: ProxyHeader;
      /**
       * The bytes of this chunk after the header: the application's first data (often empty).
       * A view of the chunk when the header came whole, else of the parser's own buffer.
       */
      readonly rest: Buffer;
    };

const NEED_MORE: ProxyFeedResult = Object.freeze({ complete: false });

/** Parses one PROXY header from a connection's first chunks. One parser per connection. */
export class ProxyHeaderParser {
  readonly #maxV2Length: number;
  #chunks: Buffer[] = [];
  #length = 0;
  /** Bytes the input must reach before parsing again is worth it. */
  #need = 1;
  #done = false;
  #failure: Error | undefined;

  /** @throws InvalidArgumentError for bad options. */
  constructor(options: ProxyParseOptions = {}) {
    this.#maxV2Length = resolveMaxV2Length(options);
  }

  /** Bytes received and held while the header is incomplete. */
  get bufferedBytes(): number {
    return this.#length;
  }

  /** True once a header was returned. */
  get done(): boolean {
    return this.#done;
  }

  /**
   * Adds a chunk of the connection's bytes.
   * @throws ProxyProtocolError or FrameTooLargeError for a bad header (and again on every call).
   * @throws InvalidArgumentError after the header was returned: the rest is not the parser's.
   */
  feed(chunk: Uint8Array): ProxyFeedResult {
    if (this.#failure !== undefined) throw this.#failure;
    if (this.#done) {
      throw new InvalidArgumentError('feed() after the PROXY header was parsed: pass bytes on');
    }
    if (!(chunk instanceof Uint8Array)) {
      throw new InvalidArgumentError('feed() takes a Uint8Array');
    }
    if (chunk.length === 0) return NEED_MORE;
    const buffer = Buffer.isBuffer(chunk)
      ? chunk
      : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
    const length = this.#length + buffer.length;
    if (length < this.#need) {
      this.#chunks.push(buffer);
      this.#length = length;
      return NEED_MORE;
    }
    // The usual case, the whole header in the first read, parses the chunk itself: no copy.
    const input = this.#length === 0 ? buffer : Buffer.concat([...this.#chunks, buffer], length);
    let result: ProxyParseResult;
    try {
      result = parseWithLimit(input, this.#maxV2Length);
    } catch (error) {
      this.#failure = error as Error;
      this.#chunks = [];
      this.#length = 0;
      throw error;
    }
    if (!result.complete) {
      this.#chunks = [input];
      this.#length = length;
      this.#need = result.need;
      return NEED_MORE;
    }
    this.#done = true;
    this.#chunks = [];
    this.#length = 0;
    return { complete: true, header: result.header, rest: input.subarray(result.length) };
  }
}
