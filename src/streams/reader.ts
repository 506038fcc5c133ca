/**
 * `StreamReader`: the read half of the stream API (asyncio's `StreamReader`). A protocol feeds it
 * bytes, EOF or a fault; user code awaits `read`, `readExactly`, `readUntil`, `readLine` or
 * iterates `lines()`. It pauses the transport's reading when its buffer holds more than twice
 * the limit, and resumes once reads bring it back to the limit or under.
 *
 * Nothing here does I/O: it sees the connection only through `pauseReading` / `resumeReading`.
 */

import { Buffer } from 'node:buffer';
import { ChunkQueue } from '../codecs/chunk-queue.js';
import { DEFAULT_STREAM_LIMIT } from '../constants.js';
import { IncompleteReadError, InvalidArgumentError, LimitOverrunError } from '../errors.js';
import type { TextEncoding, Transport } from '../transport.js';
import { type Deferred, deferred } from './deferred.js';

const EMPTY = Buffer.alloc(0);
const LF = 0x0a;
const CR = 0x0d;
const NEWLINE = Buffer.from('\n');

/** Options of a `StreamReader`. */
export interface StreamReaderOptions {
  /**
   * Bytes `readUntil` / `readLine` accept before their separator; more is a `LimitOverrunError`.
   * Also sets the flow-control marks: reading pauses while over twice this, resumes at or under it.
   * @default 65536 (`DEFAULT_STREAM_LIMIT`)
   */
  readonly limit?: number;
}

/** What the reader needs of a transport for flow control; every `Transport` fits. */
export type ReadFlowControl = Pick<Transport, 'pauseReading' | 'resumeReading'>;

/** Options of `StreamReader.lines()`. */
export interface LinesOptions {
  /** Decode each line with this encoding and yield strings instead of buffers. */
  readonly encoding: TextEncoding;
}

/**
 * Checks a `limit` option and applies the default.
 * @throws InvalidArgumentError unless a positive whole number of bytes.
 */
export function resolveLimit(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_STREAM_LIMIT;
  if (!(Number.isSafeInteger(limit) && limit > 0)) {
    throw new InvalidArgumentError(`limit must be a positive whole number of bytes, got ${limit}`);
  }
  return limit;
}

export class StreamReader {
  readonly #limit: number;
  readonly #queue = new ChunkQueue();
  #eof = false;
  #exception: Error | undefined;
  #transport: ReadFlowControl | undefined;
  /** Reading was paused by this reader (not by the user through the transport). */
  #paused = false;
  /** The one read waiting for data. */
  #waiter: Deferred<void> | undefined;
  /** The read in progress, for the message when a second one is attempted. */
  #busy: string | undefined;

  /** @throws InvalidArgumentError for a bad `limit`. */
  constructor(options: StreamReaderOptions = {}) {
    this.#limit = resolveLimit(options.limit);
  }

  /** Bytes `readUntil` / `readLine` accept before their separator. */
  get limit(): number {
    return this.#limit;
  }

  /**
   * The transport whose reading this reader pauses and resumes. `StreamReaderProtocol` sets it
   * on `connectionMade`.
   * @throws InvalidArgumentError when a transport is already set.
   */
  setTransport(transport: ReadFlowControl): void {
    if (this.#transport !== undefined) {
      throw new InvalidArgumentError('the StreamReader already has a transport');
    }
    this.#transport = transport;
  }

  /**
   * Appends received bytes (kept, not copied) and wakes a waiting read. Called by the protocol;
   * call it yourself to feed a reader from elsewhere.
   * @throws InvalidArgumentError after `feedEof()`.
   */
  feedData(data: Uint8Array): void {
    if (this.#eof) throw new InvalidArgumentError('feedData() after feedEof()');
    if (data.length === 0) return;
    this.#queue.push(
      Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.length),
    );
    this.#wake();
    const transport = this.#transport;
    if (transport !== undefined && !this.#paused && this.#queue.length > 2 * this.#limit) {
      this.#paused = true;
      transport.pauseReading();
    }
  }

  /** The peer will send no more: reads return what is buffered, then end. Idempotent. */
  feedEof(): void {
    this.#eof = true;
    this.#wake();
  }

  /**
   * The connection failed: the waiting read and every later one reject with `error`, even when
   * bytes are still buffered (asyncio's rule: after a fault, the stream is broken). The first
   * error wins.
   */
  setException(error: Error): void {
    this.#exception ??= error;
    const waiter = this.#waiter;
    if (waiter !== undefined) {
      this.#waiter = undefined;
      waiter.reject(this.#exception);
    }
  }

  /** The fault reads reject with, if any. */
  exception(): Error | undefined {
    return this.#exception;
  }

  /** True once EOF was fed and every buffered byte was read. */
  atEof(): boolean {
    return this.#eof && this.#queue.length === 0;
  }

  /**
   * Read up to `n` bytes: as soon as any are buffered, return up to `n` of them. With `n < 0`,
   * read until EOF and return everything. An empty buffer means EOF (or `n === 0`).
   * @param n Most bytes to return; negative for "until EOF". @default -1
   */
  async read(n = -1): Promise<Buffer> {
    checkCount('read', n, true);
    this.#begin('read');
    try {
      return n < 0 ? await this.#readToEof() : await this.#readSome(n);
    } finally {
      this.#busy = undefined;
    }
  }

  /**
   * Read exactly `n` bytes.
   * @throws IncompleteReadError when EOF comes first; its `partial` holds the bytes that came
   * (consumed from the reader) and `expected` is `n`.
   */
  async readExactly(n: number): Promise<Buffer> {
    checkCount('readExactly', n, false);
    this.#begin('readExactly');
    try {
      return await this.#readExactly(n);
    } finally {
      this.#busy = undefined;
    }
  }

  /**
   * Read up to and including `separator`.
   * @param separator Non-empty bytes, or a string taken as UTF-8. @default '\n'
   * @throws LimitOverrunError when the separator is not within `limit` bytes; nothing is
   * consumed, so `readExactly(error.consumed)` skips the bytes searched.
   * @throws IncompleteReadError at EOF without the separator; `partial` holds (and consumes)
   * what was buffered; `expected` is undefined.
   */
  async readUntil(separator: Uint8Array | string = NEWLINE): Promise<Buffer> {
    const sep = typeof separator === 'string' ? Buffer.from(separator, 'utf8') : separator;
    if (!(sep instanceof Uint8Array) || sep.length === 0) {
      throw new InvalidArgumentError('readUntil() needs a non-empty separator');
    }
    this.#begin('readUntil');
    try {
      return await this.#readUntil(sep, false);
    } finally {
      this.#busy = undefined;
    }
  }

  /**
   * Read one line, including its `\n` (as asyncio's `readline`). At EOF it returns the last
   * bytes without `\n`, and after them an empty buffer.
   * @throws LimitOverrunError when no `\n` comes within `limit` bytes (nothing is consumed).
   */
  async readLine(): Promise<Buffer> {
    this.#begin('readLine');
    try {
      return await this.#readUntil(NEWLINE, true);
    } finally {
      this.#busy = undefined;
    }
  }

  /**
   * Iterate the lines until EOF, each without its `\n` or `\r\n`. A last line the peer did not
   * terminate is yielded too. Over-long lines throw `LimitOverrunError` out of the loop.
   */
  lines(): AsyncGenerator<Buffer, void, undefined>;
  lines(options: LinesOptions): AsyncGenerator<string, void, undefined>;
  async *lines(options?: LinesOptions): AsyncGenerator<Buffer | string, void, undefined> {
    for (;;) {
      const line = await this.readLine();
      if (line.length === 0) return;
      let end = line.length;
      if (line[end - 1] === LF) {
        end -= 1;
        if (end > 0 && line[end - 1] === CR) end -= 1;
      }
      yield options === undefined ? line.subarray(0, end) : line.toString(options.encoding, 0, end);
    }
  }

  // ---- the reads ----

  async #readSome(n: number): Promise<Buffer> {
    if (n === 0) return EMPTY;
    if (this.#queue.length === 0 && !this.#eof) await this.#waitForData();
    return this.#take(Math.min(n, this.#queue.length));
  }

  async #readToEof(): Promise<Buffer> {
    // Take what arrives as it arrives, so flow control never pauses a reader that waits for EOF.
    const parts: Buffer[] = [];
    let total = 0;
    for (;;) {
      if (this.#queue.length > 0) {
        const part = this.#take(this.#queue.length);
        parts.push(part);
        total += part.length;
      } else if (this.#eof) {
        break;
      } else {
        await this.#waitForData();
      }
    }
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts, total);
  }

  async #readExactly(n: number): Promise<Buffer> {
    if (n === 0) return EMPTY;
    while (this.#queue.length < n) {
      if (this.#eof) throw new IncompleteReadError(this.#take(this.#queue.length), n);
      await this.#waitForData();
    }
    return this.#take(n);
  }

  async #readUntil(separator: Uint8Array, partialAtEof: boolean): Promise<Buffer> {
    const queue = this.#queue;
    const limit = this.#limit;
    // Where the next search starts: bytes before it were searched and hold no separator start.
    let from = 0;
    let found: number;
    for (;;) {
      const length = queue.length;
      if (length - from >= separator.length) {
        found = queue.indexOf(separator, from);
        if (found !== -1) break;
        from = length + 1 - separator.length;
        if (from > limit) throw new LimitOverrunError(limit, from);
      }
      if (this.#eof) {
        const partial = this.#take(length);
        if (partialAtEof) return partial;
        throw new IncompleteReadError(partial, undefined);
      }
      await this.#waitForData();
    }
    if (found > limit) throw new LimitOverrunError(limit, found);
    return this.#take(found + separator.length);
  }

  // ---- machinery ----

  /**
   * Marks the start of read `name`; each read clears the mark in a `finally` once it settles.
   * @throws InvalidArgumentError while another read is pending; the fault once there is one.
   */
  #begin(name: string): void {
    if (this.#busy !== undefined) {
      throw new InvalidArgumentError(
        `${name}() called while ${this.#busy}() is pending: a StreamReader serves one read at a time`,
      );
    }
    if (this.#exception !== undefined) throw this.#exception;
    this.#busy = name;
  }

  /** Waits for the next feed. Rejects with the fault if one comes instead. */
  async #waitForData(): Promise<void> {
    // A fault that came after the feed that woke the last wait found no waiter to reject:
    // a backend may deliver data and the fault in one turn, before this read resumes.
    if (this.#exception !== undefined) throw this.#exception;
    // Waiting while this reader paused the transport would wait forever: readExactly(n) with
    // n over twice the limit needs more than flow control lets in, so let the bytes come.
    if (this.#paused) {
      this.#paused = false;
      this.#transport?.resumeReading();
    }
    const waiter = deferred<void>();
    this.#waiter = waiter;
    await waiter.promise;
  }

  #wake(): void {
    const waiter = this.#waiter;
    if (waiter !== undefined) {
      this.#waiter = undefined;
      waiter.resolve();
    }
  }

  #take(n: number): Buffer {
    const bytes = this.#queue.take(n);
    if (this.#paused && this.#queue.length <= this.#limit) {
      this.#paused = false;
      this.#transport?.resumeReading();
    }
    return bytes;
  }
}

function checkCount(method: string, n: number, negativeAllowed: boolean): void {
  if (!Number.isSafeInteger(n) || (!negativeAllowed && n < 0)) {
    throw new InvalidArgumentError(
      `${method}() needs a ${negativeAllowed ? 'whole' : 'non-negative whole'} number of bytes, got ${n}`,
    );
  }
}
