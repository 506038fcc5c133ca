/**
 * The fixture server's protocols: the ledger protocol (a FramedProtocol that records every
 * message it handled, then acks it) and, for framing `none`, a protocol that answers every read.
 *
 * A connection handles its messages one at a time, in order: while a handler runs (it may take
 * a few ms, or a "slow" while), frame delivery is paused, so the ledger's order is the order of
 * handling and acks leave in that order. On `shutdownRequested` the protocol finishes the
 * message in hand, acks it and closes; frames not yet started are left unhandled (and unacked).
 */
import type { Codec } from '../../src/codecs/codec.js';
import { FramedProtocol } from '../../src/codecs/framed-protocol.js';
import { AionetError, FrameInvalidError, ProtocolCallbackError } from '../../src/errors.js';
import { type CallbackResult, Protocol } from '../../src/protocol.js';
import type { Transport } from '../../src/transport.js';
import {
  ackPayload,
  type Fate,
  type FateRates,
  fate,
  MAX_FILL,
  type Message,
  parseMessage,
} from './ledger.js';

/** One server-side connection as the ledger sees it. */
export interface ConnRecord {
  /** The connection id its messages carry (set by the first valid message). */
  id: string | undefined;
  /** Sequence numbers handled, in the order handled. */
  readonly seqs: number[];
  /** How many times `connectionLost` ran (must be 1). */
  lostCalls: number;
  /** The code `connectionLost` got: `none`, an `ERR_AIONET_*` code, or `UNTYPED:<name>`. */
  lost: string | undefined;
  /** Date.now() at `connectionLost` (wall clock, comparable with the clients' process). */
  lostAt: number;
}

/** Where protocols report to: the fixture's book of every connection. */
export interface LedgerBook {
  made(record: ConnRecord): void;
  lost(record: ConnRecord): void;
  /** A connection's write buffer holds `bytes` after a padded ack (the peak is reported). */
  buffered(bytes: number): void;
}

/** How the handler behaves. */
export interface HandlerSettings {
  readonly seed: number;
  readonly rates: FateRates;
  /** Handling time of an ordinary message, ms: `[min, max]`; `[0, 0]` handles synchronously. */
  readonly delayMs: readonly [number, number];
  /** Handling time of a `slow` message, ms. */
  readonly slowMs: number;
  /** Honour `pauseWriting` by pausing frame delivery; false leaves the transport's safe default. */
  readonly backpressure: boolean;
  /** A random number in [0, 1) for handling times. */
  readonly random: () => number;
  /** The framing, for acks with padding (written as views of one shared buffer, not copied). */
  readonly framing: 'line' | 'length';
}

/** Padding bytes every padded ack copies (once: its own memory, as a real reply would be). */
const PADDING = Buffer.alloc(MAX_FILL + 1, 0x78); // 'x'
const NEWLINE = Buffer.from('\n');

/** The code of an error as the summary counts it. */
export function errorKey(error: unknown): string {
  if (error === undefined) return 'none';
  if (error instanceof AionetError) return error.code;
  return `UNTYPED:${(error as Error)?.name ?? typeof error}`;
}

/** A connection's record before anything happened on it. */
function newRecord(): ConnRecord {
  return { id: undefined, seqs: [], lostCalls: 0, lost: undefined, lostAt: 0 };
}

export class LedgerProtocol extends FramedProtocol<Buffer, Uint8Array> {
  readonly record: ConnRecord = newRecord();
  readonly #book: LedgerBook;
  readonly #settings: HandlerSettings;
  #busy = false;
  #writePaused = false;
  #stopping = false;

  constructor(codec: Codec<Buffer, Uint8Array>, book: LedgerBook, settings: HandlerSettings) {
    super(codec);
    this.#book = book;
    this.#settings = settings;
    if (settings.backpressure) {
      this.pauseWriting = () => {
        this.#writePaused = true;
        this.#syncReading();
      };
      this.resumeWriting = () => {
        this.#writePaused = false;
        this.#syncReading();
      };
    }
  }

  override connectionMade(transport: Transport): CallbackResult {
    super.connectionMade(transport);
    this.#book.made(this.record);
  }

  frameReceived(frame: Buffer): CallbackResult {
    const message = parseMessage(frame);
    if (message === undefined) throw new FrameInvalidError('not a ledger message');
    const record = this.record;
    record.id ??= message.connId;
    if (record.id !== message.connId) {
      throw new FrameInvalidError(`message of ${message.connId} on ${record.id}'s connection`);
    }
    const { seed, rates, delayMs, slowMs, random } = this.#settings;
    const what = fate(seed, message.connId, message.seq, rates);
    const delay =
      what === 'slow' ? slowMs : delayMs[0] + Math.floor(random() * (delayMs[1] - delayMs[0] + 1));
    if (delay === 0) return this.#handle(message, what);
    this.#busy = true;
    this.#syncReading();
    return new Promise<void>((resolve, reject) => {
      setTimeout(() => {
        this.#busy = false;
        try {
          const result = this.#handle(message, what);
          if (result !== undefined) {
            result.then(resolve, reject);
            return;
          }
        } catch (error) {
          reject(error);
          return;
        }
        resolve();
        if (this.#stopping) this.transport.close();
        else this.#syncReading();
      }, delay);
    });
  }

  override framesEnded(): boolean | undefined {
    return undefined;
  }

  shutdownRequested(): boolean | undefined {
    this.#stopping = true;
    if (!this.#busy) return undefined;
    this.#syncReading();
    return true;
  }

  override connectionLost(error?: Error): void {
    const record = this.record;
    record.lostCalls++;
    record.lost = errorKey(error);
    record.lostAt = Date.now();
    this.#book.lost(record);
  }

  /** Records the message as handled and acks it, or fails as its fate says. */
  #handle(message: Message, what: Fate): Promise<void> | undefined {
    if (what === 'throw') throw new Error(`injected failure at ${message.connId} ${message.seq}`);
    if (what === 'reject') {
      return Promise.reject(new Error(`injected rejection at ${message.connId} ${message.seq}`));
    }
    this.record.seqs.push(message.seq);
    if (message.fill === 0) {
      this.sendFrame(ackPayload(message));
      return undefined;
    }
    // `ack <connId> <seq> ` then the padding, written as a list: one copy of the padding.
    const head = Buffer.from(`ack ${message.connId} ${message.seq} `, 'latin1');
    const padding = Buffer.from(PADDING.subarray(0, message.fill));
    if (this.#settings.framing === 'line') {
      this.transport.writeLines([head, padding, NEWLINE]);
    } else {
      const length = Buffer.allocUnsafe(4);
      length.writeUInt32BE(head.length + padding.length, 0);
      this.transport.writeLines([length, head, padding]);
    }
    this.#book.buffered(this.transport.getWriteBufferSize());
    return undefined;
  }

  #syncReading(): void {
    if (this.#busy || this.#writePaused || this.#stopping) this.pauseReading();
    else this.resumeReading();
  }
}

/** Framing `none`: answers every read with `ok\n`, whatever the bytes (the chapter's server). */
export class ReadReplyProtocol extends Protocol {
  readonly record: ConnRecord = newRecord();
  readonly #book: LedgerBook;
  #transport: Transport | undefined;

  constructor(book: LedgerBook) {
    super();
    this.#book = book;
  }

  override connectionMade(transport: Transport): CallbackResult {
    this.#transport = transport;
    this.#book.made(this.record);
  }

  override dataReceived(_data: Buffer): CallbackResult {
    this.#transport?.write(OK);
  }

  override connectionLost(error?: Error): void {
    this.record.lostCalls++;
    this.record.lost = errorKey(error);
    this.record.lostAt = Date.now();
    this.#book.lost(this.record);
  }
}

const OK = Buffer.from('ok\n');

/** The cause code of a callback failure (what the handler threw), for the summary. */
export function causeKey(error: Error): string | undefined {
  if (!(error instanceof ProtocolCallbackError)) return undefined;
  const cause = error.cause;
  if (cause instanceof AionetError) return cause.code;
  return cause instanceof Error ? 'injected' : 'UNTYPED';
}
