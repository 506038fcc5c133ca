/**
 * The Protocol contract: the callbacks a transport makes into user code. No I/O lives here.
 *
 * Call grammar, guaranteed by every transport and checked by the test suite:
 *
 *     start -> connectionMade [-> dataReceived*] [-> eofReceived] -> connectionLost -> end
 *
 * For a {@link BufferedProtocol} read `(getBuffer -> bufferUpdated)*` for `dataReceived*`.
 * `pauseWriting` / `resumeWriting` may come at any point between `connectionMade` and
 * `connectionLost`, strictly alternating and starting with `pauseWriting`.
 *
 * Every callback is guarded: if it throws, or returns a promise that rejects, the connection is
 * aborted and `connectionLost` receives a `ProtocolCallbackError` naming the callback. The server
 * keeps serving everyone else.
 */
import type { Transport } from './transport.js';

/** What a callback may return: nothing, or a promise whose rejection fails the connection. */
export type CallbackResult = void | Promise<void>;

/** Callbacks shared by stream protocols of both kinds. */
export interface BaseProtocolCallbacks {
  /** Called once, when the connection is up. Keep the transport to write with. */
  connectionMade?(transport: Transport): CallbackResult;

  /**
   * The peer will send no more bytes (it sent FIN). Return `true` to keep the write side open
   * (half-close); anything else closes the transport after pending writes are flushed.
   */
  // biome-ignore lint/suspicious/noConfusingVoidType: a method with no return statement must fit
  eofReceived?(): boolean | undefined | void;

  /**
   * Called exactly once, last. `error` is absent on a clean close (FIN both ways, or
   * `close()`/`abort()` by this side) and set on any fault: a reset, a failed callback, a timeout.
   */
  connectionLost?(error?: Error): void;

  /**
   * The transport's write buffer went strictly over the high-water mark. Stop writing until
   * {@link resumeWriting}. A protocol that does not implement this gets the safe default:
   * the transport pauses *reading* from the peer until the buffer drains to the low-water mark.
   */
  pauseWriting?(): void;

  /** The write buffer drained to the low-water mark or under. */
  resumeWriting?(): void;

  /**
   * The server is shutting down gracefully (`server.shutdown()`, SIGTERM in the CLI). Say
   * goodbye if the protocol has one. Return `true` to keep the connection open until the
   * protocol closes it itself (it is reset if that takes longer than the drain timeout);
   * anything else closes it now, after pending writes are flushed.
   */
  // biome-ignore lint/suspicious/noConfusingVoidType: a method with no return statement must fit
  shutdownRequested?(): boolean | undefined | void;
}

/** A protocol that is handed each chunk of bytes the transport reads. */
export interface ProtocolCallbacks extends BaseProtocolCallbacks {
  /**
   * Some bytes arrived. Chunk boundaries mean nothing: TCP may split or coalesce the peer's
   * writes anywhere. The buffer is the protocol's to keep.
   */
  dataReceived?(data: Buffer): CallbackResult;
}

/**
 * A protocol that owns its receive buffer: the transport asks for a buffer, fills it, and says
 * how many bytes it wrote. Saves an allocation per read where the backend can read in place.
 */
export interface BufferedProtocolCallbacks extends BaseProtocolCallbacks {
  /**
   * Return a buffer to read into; `sizeHint` is how many bytes the transport would like room
   * for (a hint only: any non-empty buffer works). Called before every read.
   */
  getBuffer(sizeHint: number): Uint8Array;

  /** `nbytes` bytes were written at the start of the buffer last returned by `getBuffer`. */
  bufferUpdated(nbytes: number): CallbackResult;
}

/** Either kind of stream protocol: what a protocol factory returns. */
export type AnyProtocol = ProtocolCallbacks | BufferedProtocolCallbacks;

/** Makes one protocol instance per connection. */
export type ProtocolFactory<P extends AnyProtocol = AnyProtocol> = () => P;

/** True when `protocol` reads into its own buffers. */
export function isBufferedProtocol(protocol: AnyProtocol): protocol is BufferedProtocolCallbacks {
  return typeof (protocol as BufferedProtocolCallbacks).getBuffer === 'function';
}

/**
 * A base class with no-op callbacks, so a protocol overrides only what it needs (asyncio's
 * `asyncio.Protocol`). It leaves `pauseWriting` / `resumeWriting` unimplemented on purpose: a
 * subclass that does not define them gets the transport's safe default (reading pauses while the
 * write buffer is over the high-water mark).
 */
export class Protocol implements ProtocolCallbacks {
  connectionMade(_transport: Transport): CallbackResult {}
  dataReceived(_data: Buffer): CallbackResult {}
  eofReceived(): boolean | undefined {
    return undefined;
  }
  connectionLost(_error?: Error): void {}
  pauseWriting?(): void;
  resumeWriting?(): void;
}

/** A base class for protocols that read into their own buffer (asyncio's `BufferedProtocol`). */
export abstract class BufferedProtocol implements BufferedProtocolCallbacks {
  connectionMade(_transport: Transport): CallbackResult {}
  abstract getBuffer(sizeHint: number): Uint8Array;
  abstract bufferUpdated(nbytes: number): CallbackResult;
  eofReceived(): boolean | undefined {
    return undefined;
  }
  connectionLost(_error?: Error): void {}
  pauseWriting?(): void;
  resumeWriting?(): void;
}
