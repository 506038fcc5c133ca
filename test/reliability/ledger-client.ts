/**
 * The load clients' side of the ledger: a raw `node:net` client (the peer must not share the
 * code under test) that sends numbered messages, parses acks, times each round trip, and
 * records how its connection ended (the server's FIN, a reset, or a plain close).
 */
import net from 'node:net';
import { ackSeq, encodeMessage, FramePrefixParser, type Framing } from './ledger.js';

/** Where and how a client connects. */
export interface ClientOptions {
  readonly port: number;
  readonly connId: string;
  readonly framing: Framing;
  /** Source address, to spread clients over 127.0.0.1–4. */
  readonly localAddress?: string;
  /** Keep the write side open after the server's FIN (to see what follows it). */
  readonly halfOpen?: boolean;
  /** Milliseconds to wait for the connection. @default 10000 */
  readonly connectTimeout?: number;
}

/** The source addresses clients are spread over. */
export const SOURCE_ADDRESSES = ['127.0.0.1', '127.0.0.2', '127.0.0.3', '127.0.0.4'] as const;

/** A client of the ledger protocol. */
export class LedgerClient {
  readonly socket: net.Socket;
  readonly connId: string;
  readonly #framing: Framing;
  /** Next sequence number to send. */
  sent = 0;
  /** Sequence numbers acked, in arrival order. */
  readonly acks: number[] = [];
  /** Round-trip times of acked messages, ms. */
  readonly latencies: number[] = [];
  /** When (performance.now()) the message of each entry of `latencies` was sent. */
  readonly sentTimes: number[] = [];
  /** Frames that were not acks of this connection (must stay 0). */
  strays = 0;
  /** performance.now() when the server's FIN arrived, and how many acks had arrived by then. */
  finAt: number | undefined;
  acksAtFin = 0;
  /** The system error the connection ended with (`ECONNRESET`…), if any. */
  errorCode: string | undefined;
  /** performance.now() when the socket closed. */
  closedAt: number | undefined;
  /** Bytes received in all. */
  bytes = 0;
  readonly closed: Promise<void>;
  readonly #sentAt: number[] = [];
  #onAck: ((seq: number) => void) | undefined;

  private constructor(socket: net.Socket, options: ClientOptions) {
    this.socket = socket;
    this.connId = options.connId;
    this.#framing = options.framing;
    const parser = new FramePrefixParser(options.framing, (prefix) => this.#frame(prefix));
    socket.on('data', (chunk: Buffer) => {
      this.bytes += chunk.length;
      parser.push(chunk);
    });
    socket.on('end', () => {
      this.finAt = performance.now();
      this.acksAtFin = this.acks.length;
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      this.errorCode ??= error.code ?? 'EUNKNOWN';
    });
    this.closed = new Promise((resolve) => {
      socket.once('close', () => {
        this.closedAt = performance.now();
        resolve();
      });
    });
  }

  /** Connects; rejects with the socket error (or a timeout) if it cannot. */
  static connect(options: ClientOptions): Promise<LedgerClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({
        port: options.port,
        host: '127.0.0.1',
        allowHalfOpen: options.halfOpen === true,
        noDelay: true,
        ...(options.localAddress === undefined ? {} : { localAddress: options.localAddress }),
      });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`connect timed out (${options.connId})`));
      }, options.connectTimeout ?? 10_000);
      socket.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(new LedgerClient(socket, options));
      });
    });
  }

  /** True once the socket is closed. */
  get isClosed(): boolean {
    return this.closedAt !== undefined;
  }

  /** Sends the next message (asking for `fill` bytes of padding in its ack); returns its seq. */
  send(fill = 0): number {
    const seq = this.sent++;
    this.#sentAt[seq] = performance.now();
    this.socket.write(encodeMessage(this.#framing, this.connId, seq, fill));
    return seq;
  }

  /** Sends `count` messages in one write. */
  sendBatch(count: number, fill = 0): void {
    const parts: Buffer[] = [];
    const now = performance.now();
    for (let i = 0; i < count; i++) {
      const seq = this.sent++;
      this.#sentAt[seq] = now;
      parts.push(encodeMessage(this.#framing, this.connId, seq, fill));
    }
    this.socket.write(Buffer.concat(parts));
  }

  /**
   * Request/response: sends `count` messages one after the other, each once the previous was
   * acked. Resolves when all are acked; rejects after `timeoutMs` or if the connection closes.
   */
  pingPong(count: number, timeoutMs: number, fill = 0): Promise<void> {
    if (count <= 0) return Promise.resolve();
    const target = this.acks.length + count;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#onAck = undefined;
        reject(new Error(`${this.connId}: ${this.acks.length}/${target} acks in ${timeoutMs} ms`));
      }, timeoutMs);
      const onClose = () => {
        clearTimeout(timer);
        this.#onAck = undefined;
        if (this.acks.length < target) reject(new Error(`${this.connId}: closed before its acks`));
      };
      this.socket.once('close', onClose);
      this.#onAck = () => {
        if (this.acks.length >= target) {
          clearTimeout(timer);
          this.socket.removeListener('close', onClose);
          this.#onAck = undefined;
          resolve();
        } else {
          this.send(fill);
        }
      };
      this.send(fill);
    });
  }

  /** Resolves once `count` acks in all arrived; rejects on close or after `timeoutMs`. */
  waitAcks(count: number, timeoutMs: number): Promise<void> {
    if (this.acks.length >= count) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#onAck = undefined;
        reject(new Error(`${this.connId}: ${this.acks.length}/${count} acks in ${timeoutMs} ms`));
      }, timeoutMs);
      const onClose = () => {
        clearTimeout(timer);
        this.#onAck = undefined;
        if (this.acks.length < count) reject(new Error(`${this.connId}: closed before its acks`));
      };
      this.socket.once('close', onClose);
      this.#onAck = () => {
        if (this.acks.length < count) return;
        clearTimeout(timer);
        this.socket.removeListener('close', onClose);
        this.#onAck = undefined;
        resolve();
      };
    });
  }

  /** Calls `fn` on every ack from now on (replacing any waiter). */
  onEveryAck(fn: ((seq: number) => void) | undefined): void {
    this.#onAck = fn;
  }

  #frame(prefix: string): void {
    const seq = ackSeq(prefix, this.connId);
    if (seq < 0) {
      this.strays++;
      return;
    }
    const sentAt = this.#sentAt[seq];
    if (sentAt !== undefined) {
      this.latencies.push(performance.now() - sentAt);
      this.sentTimes.push(sentAt);
    }
    this.acks.push(seq);
    this.#onAck?.(seq);
  }
}

/**
 * Connects `count` clients, at most `concurrency` connects in flight, spread over the source
 * addresses. `make(i)` gives client i's options. Rejects on the first failure.
 */
export async function connectMany(
  count: number,
  concurrency: number,
  make: (i: number) => ClientOptions,
): Promise<LedgerClient[]> {
  const clients: LedgerClient[] = new Array(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      clients[i] = await LedgerClient.connect(make(i));
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return clients;
}

/** Runs `fn` over `items` with at most `concurrency` calls in flight. */
export async function forEachLimited<T>(
  items: readonly T[],
  concurrency: number,
  fn: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}
