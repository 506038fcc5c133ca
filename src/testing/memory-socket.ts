/**
 * `MemorySocket`: the simulated socket under a `MemoryTransport` — what a `net.Socket` is to
 * the `net` backend. It holds the bytes in flight and the FIN/RST state of one end, and tells
 * its transport what happened through `MemorySocketEvents`, always from a `DeliveryLoop` step.
 *
 * Its far end is either the test (the `receive…`/`peer…` methods) or another memory socket
 * (`MemorySocket.link`). Internal to the kit: users meet it through `MemoryTransport`.
 */
import { Buffer } from 'node:buffer';
import { ConnectionResetError } from '../errors.js';
import { ByteQueue } from './byte-queue.js';
import type { DeliveryLoop } from './delivery-loop.js';

/** A call the state machine made into the memory socket, as listed by `MemoryTransport.calls`. */
export type MemoryCall =
  | 'pauseReading'
  | 'resumeReading'
  | 'writeEof'
  | 'close'
  | 'abort'
  /** The FIN left: `writeEof()` or `close()` and the write buffer flushed. */
  | 'eofSent'
  /** `connectionLost` was delivered. */
  | 'lost';

/** What the socket reports, as a `net.Socket` emits events. */
export interface MemorySocketEvents {
  /** Bytes arrived (`_onData`). */
  data(bytes: Buffer): void;
  /** The peer's FIN arrived (`_onEof`). */
  eof(): void;
  /** The write buffer shrank (`_onWriteProgress`). */
  drain(): void;
  /** The socket is fully closed (`_onLost`). */
  close(error: Error | undefined): void;
}

/** How the connection ended, decided before the transport hears of it. */
interface Ending {
  readonly error: Error | undefined;
}

/** One end of an in-memory connection. */
export class MemorySocket {
  /** The loop that runs the steps; both ends of a pair share one. */
  loop: DeliveryLoop;
  readonly #events: MemorySocketEvents;
  readonly #calls: MemoryCall[] = [];
  #written: Buffer[] = [];

  /** The write buffer: bytes the peer has not taken yet. */
  readonly #out = new ByteQueue();
  #finPending = false;
  #finSent = false;
  #closing = false;
  #aborted = false;
  #drainPending = false;

  /** Bytes that arrived and wait to be delivered (the receive buffer). */
  readonly #in = new ByteQueue();
  #eofIn = false;
  #eofDelivered = false;
  #reading = true;

  #started = false;
  #ending: Ending | undefined;
  #lost = false;

  /** The far end when it is another memory socket; `undefined` while the test plays it. */
  #peer: MemorySocket | undefined;
  #peerReading: boolean;
  #peerGone = false;

  constructor(events: MemorySocketEvents, loop: DeliveryLoop, peerReading: boolean) {
    this.#events = events;
    this.loop = loop;
    this.#peerReading = peerReading;
    loop.add(() => this.#step());
  }

  /** Makes `a` and `b` each other's far end, stepped by one shared `loop`. */
  static link(a: MemorySocket, b: MemorySocket, loop: DeliveryLoop): void {
    a.#peer = b;
    b.#peer = a;
    a.loop = loop;
    b.loop = loop;
    loop.add(() => a.#step());
    loop.add(() => b.#step());
  }

  // ---- state (`MemoryTransport` documents each; it reports them as they are) ----

  get calls(): readonly MemoryCall[] {
    return this.#calls;
  }
  get written(): readonly Buffer[] {
    return this.#written;
  }
  get bufferedSize(): number {
    return this.#out.size;
  }
  get closeCalled(): boolean {
    return this.#closing;
  }
  get aborted(): boolean {
    return this.#aborted;
  }
  get eofWritten(): boolean {
    return this.#finSent;
  }
  get lost(): boolean {
    return this.#lost;
  }
  get reading(): boolean {
    return this.#reading;
  }
  get peerReading(): boolean {
    return this.#peerReading;
  }
  /** Whether the far end is another memory socket (then the test may not play it). */
  get hasPeer(): boolean {
    return this.#peer !== undefined;
  }

  /** Forgets what was written so far. */
  forgetWritten(): void {
    this.#written = [];
  }

  /** The transport is up: steps may deliver from now on. */
  start(): void {
    this.#started = true;
  }

  // ---- what the transport asks (its `_` hooks) ----

  /** `_send`: record, then hand to the far end now if it reads, else buffer. */
  write(data: Uint8Array): void {
    this.#written.push(Buffer.from(data));
    const peer = this.#peer;
    if (peer === undefined) {
      if (this.#peerGone || (this.#peerReading && this.#out.size === 0)) return;
    } else {
      if (peer.#lost || peer.#ending !== undefined) return; // a gone peer discards
      if (this.#out.size === 0 && (peer.#reading || peer.#closing)) {
        peer.#in.push(Buffer.from(data));
        return;
      }
    }
    this.#out.push(Buffer.from(data));
  }

  /** `_shutdownWrite`: FIN once the buffer is flushed. */
  shutdownWrite(): void {
    this.#calls.push('writeEof');
    this.#finPending = true;
    this.#checkFlushed();
  }

  /** Flush, FIN, then close; meanwhile read and drop, as the socket backend does. */
  close(): void {
    this.#calls.push('close');
    this.#closing = true;
    this.#finPending = true;
    this.#in.clear();
    this.#checkFlushed();
  }

  /** Drop everything and reset: the far end sees `ConnectionResetError`. Idempotent. */
  reset(): void {
    if (this.#aborted || this.#lost) return;
    this.#calls.push('abort');
    this.#aborted = true;
    this.#end(undefined);
    const peer = this.#peer;
    if (peer !== undefined && !peer.#lost) peer.#end(new ConnectionResetError('ECONNRESET'));
  }

  /** `_setReading`: whether steps deliver. */
  setReading(reading: boolean): void {
    if (reading === this.#reading) return;
    this.#reading = reading;
    this.#calls.push(reading ? 'resumeReading' : 'pauseReading');
  }

  // ---- what the test, playing the far end, does ----

  /** Bytes arrive; dropped when this end is closing or gone, as a socket drops them. */
  receive(bytes: Buffer): void {
    if (bytes.length === 0 || this.#ending !== undefined || this.#closing) return;
    this.#in.push(bytes);
  }

  /** The far end's FIN arrived (delivered or not). */
  get eofReceived(): boolean {
    return this.#eofIn;
  }

  /** The far end's FIN arrives, behind the bytes before it. */
  receiveEof(): void {
    this.#eofIn = true;
  }

  /** The far end closes: FIN, then it discards whatever it gets. */
  closeFromPeer(): void {
    this.#eofIn = true;
    this.#peerGone = true;
    this.#takeOut();
  }

  /** The far end resets: `ConnectionResetError`. No-op once ending. */
  resetFromPeer(): void {
    if (!this.#lost) this.#end(new ConnectionResetError('ECONNRESET'));
  }

  /** The far end stops or starts reading; starting takes the whole buffer. */
  setPeerReading(reading: boolean): void {
    this.#peerReading = reading;
    if (reading) this.#takeOut();
  }

  /** The far end reads up to `n` bytes of the write buffer. */
  peerReads(n: number): Buffer {
    return Buffer.concat(this.#takeOut(n));
  }

  // ---- internals ----

  /** One delivery, or one piece of bookkeeping; returns whether anything moved. */
  #step(): boolean {
    if (!this.#started || this.#lost) return false;
    const ending = this.#ending;
    const peer = this.#peer;
    if (ending !== undefined) {
      this.#lost = true;
      this.#calls.push('lost');
      // A gone peer discards: the other end's buffer drains and its close can complete.
      if (peer !== undefined) peer.#takeOut();
      this.#events.close(ending.error);
      return true;
    }
    if (this.#drainPending) {
      this.#drainPending = false;
      this.#events.drain();
      return true;
    }
    if (this.#closing) {
      const moved = this.#in.size > 0 || (peer !== undefined && peer.#out.size > 0);
      this.#in.clear();
      if (peer !== undefined) peer.#takeOut();
      return moved;
    }
    if (!this.#reading) return false;
    const chunk = this.#in.shift();
    if (chunk !== undefined) {
      this.#events.data(chunk);
      return true;
    }
    if (peer !== undefined && peer.#out.size > 0) {
      for (const bytes of peer.#takeOut()) this.#in.push(bytes);
      return true;
    }
    if (this.#eofIn && !this.#eofDelivered) {
      this.#eofDelivered = true;
      this.#events.eof();
      // Kept half-open after our own FIN left: both ways are shut, so the socket closes (Node
      // destroys a socket once it has both ended and finished).
      if (this.#finSent) this.#ending ??= { error: undefined };
      return true;
    }
    return false;
  }

  /** The far end takes up to `n` bytes of the write buffer; returns them. */
  #takeOut(n = Number.POSITIVE_INFINITY): Buffer[] {
    const before = this.#out.size;
    const taken = this.#out.take(n);
    if (this.#out.size < before) this.#drainPending = true;
    this.#checkFlushed();
    return taken;
  }

  /** Once the write buffer is empty: send a pending FIN, complete a pending close. */
  #checkFlushed(): void {
    if (this.#out.size !== 0 || this.#lost) return;
    if (this.#finPending && !this.#finSent) {
      this.#finSent = true;
      this.#calls.push('eofSent');
      const peer = this.#peer;
      if (peer !== undefined && !peer.#lost) peer.#eofIn = true;
      // The peer's FIN was delivered and kept open: both ways are shut now.
      if (this.#eofDelivered) this.#ending ??= { error: undefined };
    }
    if (this.#closing) this.#ending ??= { error: undefined };
  }

  /** Decides the end: nothing more is delivered but `close`. The first reason wins. */
  #end(error: Error | undefined): void {
    this.#in.clear();
    this.#out.clear();
    this.#drainPending = false;
    this.#ending ??= { error };
  }
}
