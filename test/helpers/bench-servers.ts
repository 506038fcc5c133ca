/**
 * Servers for the load generator's tests, correct or misbehaving on purpose, written with raw
 * `node:net` so they share no code with aionet. Each listens on 127.0.0.1 port 0 and answers
 * like the chapter's server (every read gets the 16 bytes `Message received`) until its fault
 * kicks in.
 */
import net from 'node:net';
import { Worker } from 'node:worker_threads';

/** The chapter's reply. */
export const REPLY = Buffer.from('Message received');

/** How a test server behaves. */
export type Behavior =
  /** Answers every read with {@link REPLY}. */
  | { readonly kind: 'correct' }
  /** Answers every read with these bytes instead. */
  | { readonly kind: 'wrong'; readonly reply: Buffer }
  /** Answers every read after `delayMs`. */
  | { readonly kind: 'slow'; readonly delayMs: number }
  /** Answers `after` reads correctly, then resets the connection (RST). */
  | { readonly kind: 'reset'; readonly after: number }
  /** Answers `after` reads correctly, then closes the connection (FIN). */
  | { readonly kind: 'close'; readonly after: number }
  /** Accepts and never answers. */
  | { readonly kind: 'silent' }
  /**
   * Answers correctly, except that replies to reads between `stallAtMs` and
   * `stallAtMs + stallMs` after the first connection wait until the stall ends.
   */
  | { readonly kind: 'stall'; readonly stallAtMs: number; readonly stallMs: number };

/** A running test server. */
export interface TestServer {
  readonly port: number;
  /** Connections accepted so far. */
  readonly accepted: () => number;
  /** The distinct client addresses seen so far. */
  readonly remoteAddresses: () => ReadonlySet<string>;
  /** Closes the listener and destroys every connection. */
  close(): Promise<void>;
}

/** Starts a server with `behavior` on 127.0.0.1, port 0. */
export async function startServer(behavior: Behavior): Promise<TestServer> {
  const sockets = new Set<net.Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const remoteAddresses = new Set<string>();
  let firstAt = Number.NaN;
  let accepted = 0;
  const later = (ms: number, action: () => void): void => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      action();
    }, ms);
    timers.add(timer);
  };
  const server = net.createServer((socket) => {
    accepted++;
    if (accepted === 1) firstAt = performance.now();
    if (socket.remoteAddress !== undefined) remoteAddresses.add(socket.remoteAddress);
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let reads = 0;
    socket.on('data', () => {
      reads++;
      switch (behavior.kind) {
        case 'correct':
          socket.write(REPLY);
          break;
        case 'wrong':
          socket.write(behavior.reply);
          break;
        case 'slow':
          later(behavior.delayMs, () => {
            if (!socket.destroyed) socket.write(REPLY);
          });
          break;
        case 'reset':
          if (reads > behavior.after) socket.resetAndDestroy();
          else socket.write(REPLY);
          break;
        case 'close':
          if (reads > behavior.after) socket.end();
          else socket.write(REPLY);
          break;
        case 'silent':
          break;
        case 'stall': {
          const sinceStart = performance.now() - firstAt;
          const stallEnd = behavior.stallAtMs + behavior.stallMs;
          if (sinceStart >= behavior.stallAtMs && sinceStart < stallEnd) {
            later(stallEnd - sinceStart, () => {
              if (!socket.destroyed) socket.write(REPLY);
            });
          } else {
            socket.write(REPLY);
          }
          break;
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return {
    port: address.port,
    accepted: () => accepted,
    remoteAddresses: () => remoteAddresses,
    close: () =>
      new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer);
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * A loopback address where every connect is refused: 127.0.0.2 at a port that an idle listener
 * holds on 127.0.0.1 until `close()`. A port merely bound and released could be taken meanwhile
 * by a concurrent test's server (on 0.0.0.0, say), which would then answer; held on 127.0.0.1 it
 * cannot be, and nothing listens on 127.0.0.2.
 */
export async function refusedTarget(): Promise<{
  host: string;
  port: number;
  close(): Promise<void>;
}> {
  const holder = net.createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  const address = holder.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return {
    host: '127.0.0.2',
    port: address.port,
    close: () => new Promise<void>((resolve) => holder.close(() => resolve())),
  };
}

/** A listener that never accepts: its accept queue fills, and later connects hang. */
export interface StuckListener {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Listens on 127.0.0.1 port 0 with a backlog of 1 from a worker thread whose event loop is then
 * blocked: the kernel queues the first connections, and drops the SYNs of the others, whose
 * connects hang until the client gives up.
 */
export async function startStuckListener(): Promise<StuckListener> {
  const gate = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(
    `
    const { parentPort, workerData } = require('node:worker_threads');
    const server = require('node:net').createServer();
    server.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
      parentPort.postMessage(server.address().port);
      // Block this thread's event loop until released: nothing is ever accepted.
      Atomics.wait(workerData, 0, 0, 30000);
      process.exit(0);
    });
    `,
    { eval: true, workerData: gate },
  );
  const port = await new Promise<number>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  return {
    port,
    close: async () => {
      Atomics.store(gate, 0, 1);
      Atomics.notify(gate, 0);
      await worker.terminate();
    },
  };
}
