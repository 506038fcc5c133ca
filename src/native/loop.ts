/**
 * The native event loop's JavaScript half: it starts the engine once, and turns each batch the
 * engine collects in one wake-up (fixed-size records in a shared `Int32Array`, the bytes read in
 * one shared buffer) into calls on the connections and listeners the records name.
 *
 * One call from C per wake-up, whatever the number of reads in it. A record names a socket by a
 * generation-tagged id: a record for a socket closed earlier in the same batch (whose slot and
 * descriptor may already serve a new socket) finds no owner with that exact id and is skipped.
 * Each record is handled in its own `try`, so one failure cannot starve the rest of the batch.
 */
import { Buffer } from 'node:buffer';
import { CLOSE_LINGER_MS } from '../constants.js';
import { type NativeBinding, nativeBinding } from './binding.js';

/** Records the engine may write per wake-up. Each is 4 int32s: kind, id, a, b. */
const BATCH_RECORDS = 2048;
const RECORD = 4;
/**
 * Bytes read per wake-up, at most. The engine reads each ready socket once (up to 64 KiB) while
 * at least 16 KiB are left: 1 MiB holds a wake-up of 1,000 busy connections without a split.
 */
const BATCH_BYTES = 1024 * 1024;
/**
 * Up to this many bytes are copied by a plain loop: for a message like the chapter's `hello\n`
 * it is faster than `Buffer#copy` or `set`, whose call and checks dominate; from about 10
 * bytes on `set` wins (~18 ns whatever the size up to 64, against 25 ns for a 16-byte loop).
 */
const SMALL_COPY = 8;
/** Int32s per deferred write: id, offset (the answer, once written), length. */
const RECORD_WRITE = 3;
/**
 * Writes made while a batch is handled are deferred to its end instead of one call into the
 * addon each: the chapter's server answers every read with a write, and the call into the addon
 * was the largest cost of a message after the kernel's. Only small writes are deferred (copied
 * into one shared buffer); a larger one, or one that does not fit, first flushes what is
 * deferred and then goes straight to the engine, so every connection's bytes keep their order.
 *
 * At the end of the batch the deferred writes are handed over, not performed: `onBatch` leaves
 * their count in the cell after the last triple, and the engine performs them when the batch's
 * call returns (after the microtasks and ticks it ran), calling `onWritesDone` only when an
 * answer is not 0. Whatever must follow them before that (a direct write from a microtask, a
 * shutdown, a close) calls {@link NativeLoop.flushWrites}, which performs them first through
 * `writeBatch` and empties the cell.
 */
const DEFERRED_WRITES = 4096;
const DEFERRED_BYTES = 256 * 1024;
const DEFERRED_WRITE_MAX = 4096;
/** The cell of the deferred-writes array holding the count handed over to the engine. */
const OWED = DEFERRED_WRITES * RECORD_WRITE;
/** The low bits of an id name the slot (see native/src/engine.c). */
const SLOT_MASK = (1 << 22) - 1;

/**
 * Batches of at least this many records first touch every connection they name (see #warm).
 * bench/dispatch-cost.ts, 1,000 connections with the caches swept between batches: 7-21 % less
 * time per message for batches of 4 to 64 records, but 20 % more for a batch of one.
 */
const WARM_BATCH = 4;
const EV_DATA = 1;
const EV_READABLE = 2;
const EV_EOF = 3;
const EV_WRITTEN = 4;
const EV_CONNECTED = 5;
const EV_ACCEPTED = 6;
const EV_ACCEPT_ERROR = 7;
const EV_LOST = 8;

/** A connection as the loop sees it. */
export interface EngineConnection {
  readonly id: number;
  /** Reads the fields its next message will need; returns anything made of them. */
  engineWarm(): number;
  /** A deferred write was performed; `result` is what `write` would have answered. */
  engineWriteDone(result: number): void;
  /** Bytes arrived; the buffer is the connection's own copy. */
  engineData(data: Buffer): void;
  /** A connection in buffered mode may be read (it reads into its protocol's buffer). */
  engineReadable(): void;
  /** The peer sent FIN. */
  engineEof(): void;
  /** The queue shrank to `queued` bytes. */
  engineWritten(queued: number): void;
  /** The engine closed the socket (`errno` 0 after a graceful close finished). */
  engineLost(errno: number): void;
}

/** A listener as the loop sees it. */
export interface EngineListener {
  engineAccepted(id: number): void;
  /** accept() failed (EMFILE…); the engine stopped watching the listener. */
  engineAcceptError(errno: number): void;
}

/** A connect in progress. */
export interface EngineConnect {
  /** `errno` is 0 on success; on failure the engine already closed the socket. */
  engineConnected(errno: number): void;
}

export class NativeLoop {
  readonly binding: NativeBinding;
  readonly #records = new Int32Array(BATCH_RECORDS * RECORD);
  readonly #data = Buffer.allocUnsafeSlow(BATCH_BYTES);
  /** Connections by slot; a holey array, indexed like the engine's slot table. */
  readonly #connections: (EngineConnection | undefined)[] = [];
  readonly #listeners = new Map<number, EngineListener>();
  readonly #connecting = new Map<number, EngineConnect>();
  /** Sockets closed gracefully with no transport (turned away…): their linger timers. */
  readonly #detached = new Map<number, ReturnType<typeof setTimeout>>();
  /**
   * Deferred writes: (id, offset, length) triples, the engine putting each answer in `offset`;
   * then one cell, at OWED, with the number of triples handed over to the engine.
   */
  readonly #deferred = new Int32Array(DEFERRED_WRITES * RECORD_WRITE + 1);
  readonly #deferredData = Buffer.allocUnsafeSlow(DEFERRED_BYTES);
  #deferredCount = 0;
  #deferredUsed = 0;
  /** True while a batch is handled: small writes are deferred to its end. */
  #inBatch = false;
  /** What #warm read, kept so the reads are not optimised away. */
  #touched = 0;

  constructor(binding: NativeBinding) {
    this.binding = binding;
    const result = binding.init(this.#records, this.#data, this);
    if (result < 0) throw new Error(`the native engine did not start (errno ${-result})`);
    binding.setWriteBatch(this.#deferred, this.#deferredData);
  }

  /**
   * Defers `data` for connection `id` to the end of the batch being handled; false when it is
   * not deferred (no batch, too large, no room) and the caller must write it now, after
   * {@link flushWrites}.
   */
  deferWrite(id: number, data: Uint8Array): boolean {
    const length = data.length;
    const at = this.#deferredUsed;
    const count = this.#deferredCount;
    if (
      !this.#inBatch ||
      length > DEFERRED_WRITE_MAX ||
      at + length > DEFERRED_BYTES ||
      count === DEFERRED_WRITES
    ) {
      return false;
    }
    const out = this.#deferredData;
    if (length <= SMALL_COPY) for (let i = 0; i < length; i++) out[at + i] = data[i]!;
    else out.set(data, at);
    const triple = count * RECORD_WRITE;
    this.#deferred[triple] = id;
    this.#deferred[triple + 1] = at;
    this.#deferred[triple + 2] = length;
    this.#deferredCount = count + 1;
    // 8-byte alignment keeps the copies word-aligned.
    this.#deferredUsed = (at + length + 7) & ~7;
    return true;
  }

  /**
   * Performs the deferred writes now, in order (those of the batch being handled, or those
   * handed over to the engine and not yet performed), and tells each connection the answer.
   * Called before any engine call that must come after them (a direct write, a shutdown, a
   * close).
   */
  flushWrites(): void {
    let count = this.#deferredCount;
    if (count !== 0) {
      this.#deferredCount = 0;
      this.#deferredUsed = 0;
    } else {
      count = this.#deferred[OWED]!;
      if (count === 0) return;
      this.#deferred[OWED] = 0;
    }
    this.binding.writeBatch(count);
    this.#answered(count);
  }

  /** Called by the addon when it performed `count` handed-over writes and an answer is not 0. */
  onWritesDone(count: number): void {
    this.#answered(count);
  }

  /** Tells each connection of the first `count` deferred writes the answer the engine gave. */
  #answered(count: number): void {
    const triples = this.#deferred;
    // What the answers set off (a protocol resumed, writing again) is written at once, not
    // deferred: a deferred write would overwrite the triples being read here.
    const inBatch = this.#inBatch;
    this.#inBatch = false;
    try {
      for (let at = 0, end = count * RECORD_WRITE; at < end; at += RECORD_WRITE) {
        // 0: all of it went to the kernel, with nothing queued before (a queue only grows by
        // a write), so there is nothing to tell: a queue that shrank to 0 meanwhile was
        // reported by its own EV_WRITTEN record of this batch.
        const answer = triples[at + 1]!;
        if (answer !== 0) this.#connection(triples[at]!)?.engineWriteDone(answer);
      }
    } finally {
      this.#inBatch = inBatch;
    }
  }

  attach(connection: EngineConnection): void {
    this.#connections[connection.id & SLOT_MASK] = connection;
  }

  detach(connection: EngineConnection): void {
    const slot = connection.id & SLOT_MASK;
    if (this.#connections[slot] === connection) this.#connections[slot] = undefined;
  }

  addListener(id: number, listener: EngineListener): void {
    this.#listeners.set(id, listener);
  }

  removeListener(id: number): void {
    this.#listeners.delete(id);
  }

  addConnecting(id: number, connect: EngineConnect): void {
    this.#connecting.set(id, connect);
  }

  removeConnecting(id: number): void {
    this.#connecting.delete(id);
  }

  /**
   * Closes a socket that has no transport (turned away by the connection limit, or its
   * factory failed): FIN once the queue is flushed, then the socket is closed when the peer's
   * FIN arrives, or after `CLOSE_LINGER_MS`.
   */
  closeDetached(id: number): void {
    if (this.binding.close(id) !== 0) return;
    const timer = setTimeout(() => {
      this.#detached.delete(id);
      this.binding.close(id);
    }, CLOSE_LINGER_MS);
    timer.unref();
    this.#detached.set(id, timer);
  }

  /** Called by the addon once per wake-up with the number of records. */
  onBatch(count: number): void {
    // Writes handed over by the last batch are performed by the engine before it calls again;
    // an engine that did not (a scripted one) must not see them overwritten.
    if (this.#deferred[OWED] !== 0) this.flushWrites();
    const records = this.#records;
    if (count >= WARM_BATCH) this.#warm(count);
    let failure: { error: unknown } | undefined;
    this.#inBatch = true;
    for (let at = 0, end = count * RECORD; at < end; at += RECORD) {
      try {
        this.#handle(records[at]!, records[at + 1]!, records[at + 2]!, records[at + 3]!);
      } catch (error) {
        // Callbacks into user code are guarded by the transport; whatever lands here is a bug
        // of ours. Finish the batch, then let it surface as an uncaught exception.
        failure ??= { error };
      }
    }
    this.#inBatch = false;
    // Handed over: the engine performs them when this call returns.
    const owed = this.#deferredCount;
    if (owed !== 0) {
      this.#deferred[OWED] = owed;
      this.#deferredCount = 0;
      this.#deferredUsed = 0;
    }
    if (failure !== undefined) throw failure.error;
  }

  /**
   * Reads a few fields of every connection the batch's data records name, before any of them is
   * handled. With many busy connections these objects are out of the caches when their message
   * comes; read here, in a loop with no dependence between one connection and the next, their
   * cache misses overlap instead of coming one after the other in the handling loop.
   */
  #warm(count: number): void {
    const records = this.#records;
    const connections = this.#connections;
    let touched = this.#touched;
    for (let at = 0, end = count * RECORD; at < end; at += RECORD) {
      if (records[at] === EV_DATA) {
        touched += connections[records[at + 1]! & SLOT_MASK]?.engineWarm() ?? 0;
      }
    }
    this.#touched = touched & 0xffff;
  }

  #connection(id: number): EngineConnection | undefined {
    const connection = this.#connections[id & SLOT_MASK];
    return connection !== undefined && connection.id === id ? connection : undefined;
  }

  #handle(kind: number, id: number, a: number, b: number): void {
    switch (kind) {
      case EV_DATA: {
        const connection = this.#connection(id);
        if (connection === undefined) return;
        // A copy the protocol may keep: small ones come from Node's shared pool, so holding a
        // partial frame costs its own bytes, not a pinned batch buffer.
        const data = Buffer.allocUnsafe(b);
        const batch = this.#data;
        if (b <= SMALL_COPY) for (let i = 0; i < b; i++) data[i] = batch[a + i]!;
        else batch.copy(data, 0, a, a + b);
        connection.engineData(data);
        return;
      }
      case EV_READABLE:
        this.#connection(id)?.engineReadable();
        return;
      case EV_EOF:
        this.#connection(id)?.engineEof();
        return;
      case EV_WRITTEN:
        this.#connection(id)?.engineWritten(a);
        return;
      case EV_LOST: {
        const connection = this.#connection(id);
        if (connection !== undefined) {
          connection.engineLost(a);
          return;
        }
        // A detached socket finished closing: its timer must not outlive the id, which a
        // later socket will carry again once the generation tag wraps.
        const timer = this.#detached.get(id);
        if (timer !== undefined) {
          clearTimeout(timer);
          this.#detached.delete(id);
        }
        return;
      }
      case EV_ACCEPTED: {
        const listener = this.#listeners.get(id);
        // The listener was closed earlier in this batch: shed the connection it accepted.
        if (listener === undefined) this.closeDetached(a);
        else listener.engineAccepted(a);
        return;
      }
      case EV_ACCEPT_ERROR:
        this.#listeners.get(id)?.engineAcceptError(a);
        return;
      case EV_CONNECTED: {
        const connect = this.#connecting.get(id);
        if (connect === undefined) return;
        this.#connecting.delete(id);
        connect.engineConnected(a);
        return;
      }
      default:
        throw new Error(`unknown native event kind ${kind}`);
    }
  }
}

let loop: NativeLoop | undefined;

/** The process's native loop, started on first use; `undefined` when the addon is missing. */
export function nativeLoop(): NativeLoop | undefined {
  if (loop !== undefined) return loop;
  const binding = nativeBinding();
  if (binding === undefined) return undefined;
  loop = new NativeLoop(binding);
  return loop;
}
