/**
 * Load shapes shared by the scenarios: paced (open-loop) requests whose round trips give the
 * latency figures, and raw connection attempts for floods and attacks.
 */
import net from 'node:net';
import { delay } from './checks.js';
import type { LedgerClient } from './ledger-client.js';

/**
 * Open-loop load: every client sends one message each `periodMs` (first at a random offset)
 * for `durationMs`, whether or not earlier acks came back, then waits up to `settleMs` for the
 * last acks. Returns the round trips of the acks that arrived in that time, ms.
 */
export async function pacedRun(
  clients: readonly LedgerClient[],
  periodMs: number,
  durationMs: number,
  random: () => number,
  settleMs = 5000,
): Promise<number[]> {
  const marks = clients.map((client) => client.latencies.length);
  const ends = await Promise.all(
    clients.map(async (client) => {
      await delay(Math.floor(random() * periodMs));
      const stop = performance.now() + durationMs - periodMs;
      let next = performance.now();
      while (performance.now() < stop && !client.isClosed) {
        client.send();
        next += periodMs;
        await delay(Math.max(0, next - performance.now()));
      }
      return client.sent;
    }),
  );
  await Promise.all(
    clients.map((client, i) => client.waitAcks(ends[i]!, settleMs).catch(() => undefined)),
  );
  return clients.flatMap((client, i) => client.latencies.slice(marks[i]));
}

/** A paced load that runs until stopped. */
export interface PacedLoad {
  /** Stops sending, waits up to `settleMs` for the last acks. */
  stop(settleMs?: number): Promise<void>;
}

/**
 * Open-loop load until stopped: every client sends one message each `periodMs` (first at a
 * random offset). Pick its round trips per phase with {@link latenciesBetween}.
 */
export function pacedLoad(
  clients: readonly LedgerClient[],
  periodMs: number,
  random: () => number,
): PacedLoad {
  let running = true;
  const loops = clients.map(async (client) => {
    await delay(Math.floor(random() * periodMs));
    let next = performance.now();
    while (running && !client.isClosed) {
      client.send();
      next += periodMs;
      await delay(Math.max(0, next - performance.now()));
    }
  });
  return {
    async stop(settleMs = 5000) {
      running = false;
      await Promise.all(loops);
      await Promise.all(
        clients.map((client) => client.waitAcks(client.sent, settleMs).catch(() => undefined)),
      );
    },
  };
}

/** Round trips of the messages sent from `from` to `to` (performance.now() times), ms. */
export function latenciesBetween(
  clients: readonly LedgerClient[],
  from: number,
  to: number,
): number[] {
  const out: number[] = [];
  for (const client of clients) {
    const { latencies, sentTimes } = client;
    for (let i = 0; i < latencies.length; i++) {
      const at = sentTimes[i]!;
      if (at >= from && at < to) out.push(latencies[i]!);
    }
  }
  return out;
}

/** How one raw connection attempt ended. */
export interface Attempt {
  /** Connected at all (the kernel completed the handshake). */
  readonly connected: boolean;
  /** Milliseconds from connect to the server's FIN or reset; NaN if neither came in time. */
  readonly closeMs: number;
  /** The bytes received, as latin1 text (first 64 KiB). */
  readonly received: string;
  /** The system error, if the connection ended on one. */
  readonly errorCode: string | undefined;
}

/**
 * Connects, optionally writes `payload` (then FIN with `end`, or RST with `reset`), and waits
 * up to `timeoutMs` for the server to close the connection; then destroys it. Never rejects.
 */
export function attempt(
  port: number,
  options: {
    localAddress?: string;
    payload?: Buffer;
    end?: boolean;
    /** Reset (RST) right after writing the payload. */
    reset?: boolean;
    timeoutMs: number;
  },
): Promise<Attempt> {
  return new Promise((resolve) => {
    const socket = net.connect({
      port,
      host: '127.0.0.1',
      ...(options.localAddress === undefined ? {} : { localAddress: options.localAddress }),
    });
    let connectedAt: number | undefined;
    let closedAt: number | undefined;
    let received = '';
    let errorCode: string | undefined;
    const timer = setTimeout(() => socket.destroy(), options.timeoutMs);
    socket.on('connect', () => {
      connectedAt = performance.now();
      if (options.payload !== undefined) socket.write(options.payload);
      if (options.reset === true) socket.resetAndDestroy();
      else if (options.end === true) socket.end();
    });
    socket.on('data', (chunk: Buffer) => {
      if (received.length < 65536) received += chunk.toString('latin1');
    });
    socket.on('end', () => {
      closedAt ??= performance.now();
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      errorCode ??= error.code;
      if (connectedAt !== undefined) closedAt ??= performance.now();
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({
        connected: connectedAt !== undefined,
        closeMs:
          connectedAt !== undefined && closedAt !== undefined ? closedAt - connectedAt : Number.NaN,
        received,
        errorCode,
      });
    });
  });
}
