/**
 * FramedProtocol: a Protocol that runs a codec over the byte stream and hands the subclass one
 * whole frame at a time (`frameReceived`), with `sendFrame` to reply in the same framing.
 *
 * The lifecycle is the core's, with frames in place of chunks:
 *
 *     connectionMade [frameReceived*] [framesEnded] connectionLost
 *
 * A frame error (over the codec's limit, malformed, truncated at EOF) fails that connection
 * alone: it is reset and `connectionLost` receives the codec's typed error. Pausing reading with
 * `this.pauseReading()` stops frame delivery at a frame boundary, even when the frames that
 * follow arrived in the same read.
 */
import { ProtocolCallbackError } from '../errors.js';
import { type CallbackResult, Protocol } from '../protocol.js';
import type { Transport } from '../transport.js';
import type { Codec } from './codec.js';

export abstract class FramedProtocol<F, Out = F> extends Protocol {
  readonly #codec: Codec<F, Out>;
  #transport: Transport | undefined;
  /** Delivery stopped by `pauseReading()`; frames wait in the decoder. */
  #paused = false;
  /** The peer's EOF arrived while paused; deliver the end once resumed. */
  #eofPending = false;

  /** @param codec decodes what arrives and encodes what `sendFrame` sends; one per connection. */
  constructor(codec: Codec<F, Out>) {
    super();
    this.#codec = codec;
  }

  /** One whole frame arrived. A throw or a rejection fails the connection. */
  abstract frameReceived(frame: F): CallbackResult;

  /**
   * The peer sent FIN and every frame before it was delivered. Return `true` to keep the write
   * side open (half-close); anything else closes after pending writes are flushed.
   */
  framesEnded(): boolean | undefined {
    return undefined;
  }

  /** The transport, once connected. */
  get transport(): Transport {
    if (this.#transport === undefined) throw new Error('FramedProtocol: not connected yet');
    return this.#transport;
  }

  /** Encodes `frame` and writes it. */
  sendFrame(frame: Out): void {
    this.transport.write(this.#codec.encode(frame));
  }

  /** Stops frame delivery at the next frame boundary and stops reading the socket. */
  pauseReading(): void {
    this.#paused = true;
    this.#transport?.pauseReading();
  }

  /** Delivers the frames that waited, then reads the socket again. */
  resumeReading(): void {
    if (!this.#paused) return;
    this.#paused = false;
    const transport = this.#transport;
    if (transport === undefined) return;
    try {
      this.#watch(this.#deliver());
      if (!this.#paused && this.#eofPending) this.#finish();
    } catch (error) {
      // Not inside a transport callback: fail the connection here, with the error.
      transport.abort(
        error instanceof Error ? error : new ProtocolCallbackError('frameReceived', error),
      );
      return;
    }
    if (!this.#paused) transport.resumeReading();
  }

  override connectionMade(transport: Transport): CallbackResult {
    this.#transport = transport;
  }

  override dataReceived(data: Buffer): CallbackResult {
    this.#codec.push(data);
    if (!this.#paused) return this.#deliver();
  }

  override eofReceived(): boolean | undefined {
    if (this.#paused) {
      // Keep the connection until the waiting frames are delivered on resume.
      this.#eofPending = true;
      return true;
    }
    return this.#finish();
  }

  /**
   * Pulls and delivers frames until the decoder needs bytes or delivery is paused. Returns a
   * promise only when a `frameReceived` returned one, rejecting if any of them rejects.
   */
  #deliver(): Promise<void> | undefined {
    const codec = this.#codec;
    const transport = this.#transport!;
    let pending: Promise<void>[] | undefined;
    while (!this.#paused && !transport.isClosing()) {
      const frame = codec.next();
      if (frame === undefined) break;
      const result = this.#call(frame);
      if (result !== undefined) {
        pending ??= [];
        pending.push(result);
      }
    }
    if (pending === undefined) return undefined;
    return Promise.all(pending).then(() => undefined);
  }

  /** Calls `frameReceived`, naming it in any failure. */
  #call(frame: F): Promise<void> | undefined {
    let result: CallbackResult;
    try {
      result = this.frameReceived(frame);
    } catch (error) {
      throw new ProtocolCallbackError('frameReceived', error);
    }
    if (typeof (result as Promise<void> | undefined)?.then !== 'function') return undefined;
    return (result as Promise<void>).then(undefined, (error: unknown) => {
      throw new ProtocolCallbackError('frameReceived', error);
    });
  }

  /** Fails the connection when a promise from a delivery outside a callback rejects. */
  #watch(result: Promise<void> | undefined): void {
    result?.then(undefined, (error: unknown) => {
      this.#transport?.abort(error as Error);
    });
  }

  #finish(): boolean | undefined {
    this.#eofPending = false;
    const codec = this.#codec;
    const transport = this.#transport!;
    for (let frame = codec.end(); frame !== undefined; frame = codec.end()) {
      if (transport.isClosing()) return undefined;
      this.#watch(this.#call(frame));
    }
    const keepOpen = this.framesEnded();
    if (keepOpen !== true) transport.close();
    return keepOpen;
  }
}
