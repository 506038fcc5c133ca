/**
 * The codec contracts: a `Decoder` turns a byte stream into frames, an `Encoder` turns a frame
 * into bytes, a `Codec` is both. Pure: no I/O, no timers, no events. A codec for untrusted input
 * must bound what it buffers (see `FrameTooLargeError`).
 *
 * Why push/pull (`push(chunk)` then `next()` until `undefined`) and not `decode(chunk, onFrame)`:
 * - no callback per frame, so no closure to allocate or to megamorphise, and no re-entrancy
 *   (an `onFrame` that pushes more input or throws half-way through a chunk);
 * - the caller sets the pace: it can stop pulling (e.g. its application paused) and the rest
 *   stays queued, which is how `pauseReading()` gets exact frame boundaries;
 * - an error surfaces from the one `next()` call that found it, with the decoder in a known
 *   state — tokio-util's `decode() -> Ok(None)` model.
 * Neither `push` nor `next` allocates anything but the frames themselves.
 *
 * The hot loop, for a server that feeds each socket read:
 *
 *     decoder.push(data);
 *     for (let frame = decoder.next(); frame !== undefined; frame = decoder.next()) handle(frame);
 *
 * At EOF call `end()` in the same way until it returns `undefined`.
 */

/**
 * Turns a byte stream into frames of type `F`.
 *
 * Errors are final: once `push`, `next` or `end` has thrown, the stream is broken and the
 * decoder must not be fed again. The built-in decoders enforce it: they drop their buffer and
 * throw the same error from every later call. (A documented recovery mode, such as the line
 * decoder's `onOversized`, reports instead of throwing and keeps decoding.)
 */
export interface Decoder<F> {
  /**
   * Queues a chunk of input. The decoder keeps a reference instead of copying, so the caller
   * must not modify `chunk` afterwards (a socket's `data` buffers are never reused; a reused
   * read buffer must be copied first). Empty chunks are ignored.
   */
  push(chunk: Buffer): void;

  /**
   * The next complete frame, or `undefined` when more bytes are needed — a normal result, not
   * an error. Call it until it returns `undefined` before relying on {@link bufferedBytes}.
   */
  next(): F | undefined;

  /**
   * The input has ended (EOF). Returns the remaining frames one per call, like {@link next},
   * then `undefined` once nothing is left; leftover bytes that do not form a frame raise
   * `IncompleteReadError` with the bytes in `partial`, unless the codec documents otherwise.
   * After it returned `undefined` the decoder is empty and may take a new stream.
   */
  end(): F | undefined;

  /**
   * Bytes queued and not yet handed out. Once {@link next} has returned `undefined` this is at
   * most the codec's limit plus its framing overhead (header or delimiter).
   */
  readonly bufferedBytes: number;
}

/** Turns a frame of type `F` into the bytes to send. */
export interface Encoder<F> {
  /**
   * The bytes to send for `frame`, framing included, as one buffer: one `write()`, no
   * `writev`. The built-in encoders return a new buffer; a codec that adds no framing may
   * return the frame itself. Throws `FrameTooLargeError` or `FrameInvalidError` for a frame
   * the matching decoder would not give back unchanged.
   */
  encode(frame: F): Buffer;
}

/**
 * A decoder and an encoder for the same framing. `In` is what `encode` accepts when it is
 * wider than what the decoder yields (a line codec encodes strings too).
 */
export interface Codec<Out, In = Out> extends Decoder<Out>, Encoder<In> {}

/**
 * Receives one frame from `forEachFrame` without a Buffer made for it: the frame is
 * `bytes[start..end)`. `bytes` is a chunk that was pushed (which nobody may modify) or, for a
 * frame that spanned chunks, a copy of its own; the range stays valid after the call, so a
 * visitor may keep `bytes.subarray(start, end)`. Returning `false` stops after this frame.
 */
export type FrameVisitor = (bytes: Buffer, start: number, end: number) => boolean | undefined;
