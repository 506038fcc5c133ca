/**
 * Loopback helpers for integration tests: a raw `net` client with promise-based reads, and small
 * waiting utilities. Raw sockets on purpose: the peer must not share aionet's code under test.
 */
import net from 'node:net';

/** A raw TCP client that collects everything it receives. */
export class RawClient {
  readonly socket: net.Socket;
  #chunks: Buffer[] = [];
  #size = 0;
  #waiters: { size: number; resolve: () => void }[] = [];
  /** Resolves when the socket closes, with the error it closed on (if any). */
  readonly closed: Promise<Error | undefined>;
  /** True once the server's FIN arrived. */
  ended = false;

  constructor(socket: net.Socket) {
    this.socket = socket;
    let closeError: Error | undefined;
    socket.on('data', (data: Buffer) => {
      this.#chunks.push(data);
      this.#size += data.length;
      this.#wake();
    });
    socket.on('end', () => {
      this.ended = true;
      this.#wake(true);
    });
    socket.on('error', (error) => {
      closeError = error;
    });
    this.closed = new Promise((resolve) => {
      socket.on('close', () => {
        this.#wake(true);
        resolve(closeError);
      });
    });
  }

  /**
   * Connects to `host:port`. With `halfOpen` the client keeps its side open after the server's
   * FIN (it must `end()` itself); without, it closes as soon as the server's FIN arrives.
   */
  static connect(port: number, host = '127.0.0.1', halfOpen = false): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port, host, allowHalfOpen: halfOpen });
      socket.once('connect', () => {
        socket.removeListener('error', reject);
        resolve(new RawClient(socket));
      });
      socket.once('error', reject);
    });
  }

  get received(): Buffer {
    return Buffer.concat(this.#chunks);
  }

  /** Resolves once at least `size` bytes in total have arrived, or the socket ended. */
  waitFor(size: number, timeoutMs = 5000): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      if (this.#size >= size || this.ended || this.socket.destroyed) {
        resolve(this.received);
        return;
      }
      const timer = setTimeout(
        () => reject(new Error(`timed out waiting for ${size} bytes, got ${this.#size}`)),
        timeoutMs,
      );
      this.#waiters.push({
        size,
        resolve: () => {
          clearTimeout(timer);
          resolve(this.received);
        },
      });
    });
  }

  #wake(all = false): void {
    this.#waiters = this.#waiters.filter((waiter) => {
      if (all || this.#size >= waiter.size) {
        waiter.resolve();
        return false;
      }
      return true;
    });
  }
}

/** Resolves after `ms` milliseconds. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `predicate` every 5 ms until it holds; rejects after `timeoutMs`. */
export async function until(
  predicate: () => boolean,
  timeoutMs = 5000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(5);
  }
}
