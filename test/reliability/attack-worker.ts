/**
 * Attackers in a process of their own, so their sockets' work does not slow the clients whose
 * latency is measured: `node --import tsx attack-worker.ts '<json>'` prints `ready`, then obeys
 * lines on stdin and reports as JSON lines.
 *
 * - `flood`: while `on` (until `off`), each of `count` loops connects about every `periodMs`
 *   (the first at a random offset) and waits for the server to close the connection;
 *   `report` prints the attempts finished since the last report; `end` stops and prints the
 *   rest once the attempts in flight are done.
 * - `slowloris`: each `on` opens a wave of `count` connections spread over `spreadMs`, every
 *   other one trickling a byte each `trickleMs` (never a line ending), the rest silent, and
 *   prints the wave's report once the server closed them all; `end` exits.
 */
import net from 'node:net';
import { createInterface } from 'node:readline';
import { seededRandom } from './ledger.js';
import { SOURCE_ADDRESSES } from './ledger-client.js';
import { type Attempt, attempt } from './load.js';

/** The worker's orders. */
export interface AttackOrders {
  readonly mode: 'flood' | 'slowloris';
  readonly port: number;
  readonly count: number;
  readonly seed: number;
  /** flood: each loop's reconnect period, ms. */
  readonly periodMs?: number;
  /** slowloris: the connections open over this long, ms. */
  readonly spreadMs?: number;
  /** slowloris: a trickler's byte period, ms. */
  readonly trickleMs?: number;
}

/**
 * What the worker reports, one entry per connection: flood `[closeMs, received, errorCode]`
 * (closeMs from connect to the server's FIN or reset); slowloris `[idleMs, fin, errorCode]`
 * (idleMs from the last byte sent to the server's FIN or reset).
 */
export type AttackReport = [number | null, string | boolean, string | null][];

/** flood: an attempt gives up after this long, ms (an overloaded machine is slow, not wrong). */
const ATTEMPT_TIMEOUT_MS = 15_000;
/** How often an idle flood loop checks whether it was switched on, ms. */
const IDLE_POLL_MS = 10;
/** slowloris: connections open in groups this far apart, ms. */
const SPREAD_STEP_MS = 10;
/** slowloris: how long the worker waits for the server to close everything, ms. */
const SLOWLORIS_TIMEOUT_MS = 10_000;

const orders = JSON.parse(process.argv[2] ?? '{}') as AttackOrders;
const random = seededRandom(orders.seed);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
let on = false;
let ended = false;
const report: AttackReport = [];
const source = (i: number) => SOURCE_ADDRESSES[i % SOURCE_ADDRESSES.length]!;

function recordAttempt(a: Attempt): void {
  const closed = a.connected && !Number.isNaN(a.closeMs);
  const gaveUp = a.connected ? 'ETIMEDOUT_CLOSE' : 'ETIMEDOUT_CONNECT';
  report.push([closed ? a.closeMs : null, a.received, a.errorCode ?? (closed ? null : gaveUp)]);
}

async function floodLoop(i: number): Promise<void> {
  const periodMs = orders.periodMs ?? 1000;
  const offset = Math.floor(random() * periodMs);
  while (!ended) {
    if (!on) {
      await sleep(IDLE_POLL_MS);
      continue;
    }
    await sleep(offset);
    while (on && !ended) {
      const next = performance.now() + periodMs;
      recordAttempt(
        await attempt(orders.port, { localAddress: source(i), timeoutMs: ATTEMPT_TIMEOUT_MS }),
      );
      await sleep(Math.max(0, next - performance.now()));
    }
  }
}

/** One slowloris connection: resolves when the server closed it (or the worker gave up). */
function slowloris(i: number, trickle: boolean): Promise<void> {
  return new Promise((resolve) => {
    const socket = net.connect({ port: orders.port, host: '127.0.0.1', localAddress: source(i) });
    let lastByteAt = 0;
    let closedAt: number | undefined;
    let fin = false;
    let errorCode: string | undefined;
    let drip: ReturnType<typeof setInterval> | undefined;
    const giveUp = setTimeout(() => socket.destroy(), SLOWLORIS_TIMEOUT_MS);
    socket.on('connect', () => {
      lastByteAt = performance.now();
      if (!trickle) return;
      const send = () => {
        if (!socket.writable) return;
        lastByteAt = performance.now();
        socket.write('7');
      };
      send();
      drip = setInterval(send, orders.trickleMs ?? 1000);
    });
    socket.on('end', () => {
      fin = true;
      closedAt ??= performance.now();
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      errorCode ??= error.code;
      closedAt ??= performance.now();
    });
    socket.on('close', () => {
      clearInterval(drip);
      clearTimeout(giveUp);
      const idle = lastByteAt > 0 && closedAt !== undefined ? closedAt - lastByteAt : null;
      report.push([idle, fin, errorCode ?? null]);
      resolve();
    });
  });
}

let work: Promise<unknown> = Promise.resolve();
if (orders.mode === 'flood') {
  work = Promise.all(Array.from({ length: orders.count }, (_, i) => floodLoop(i)));
}

/** Opens one slowloris wave and prints its report once every connection of it is closed. */
async function wave(): Promise<void> {
  const steps = Math.max(1, Math.round((orders.spreadMs ?? 0) / SPREAD_STEP_MS));
  const perStep = Math.ceil(orders.count / steps);
  const open: Promise<void>[] = [];
  for (let i = 0; i < orders.count; i++) {
    open.push(slowloris(i, i % 2 === 0));
    if ((i + 1) % perStep === 0) await sleep(SPREAD_STEP_MS);
  }
  await Promise.all(open);
  process.stdout.write(`${JSON.stringify(report.splice(0))}\n`);
}

const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  if (line === 'on') {
    on = true;
    if (orders.mode === 'slowloris') work = work.then(wave);
  } else if (line === 'off') {
    on = false;
  } else if (line === 'report') {
    process.stdout.write(`${JSON.stringify(report.splice(0))}\n`);
  } else if (line === 'end') {
    on = false;
    ended = true;
    lines.close();
    if (orders.mode === 'flood') {
      void work.then(() => process.stdout.write(`${JSON.stringify(report.splice(0))}\n`));
    }
  }
});
process.stdout.write('ready\n');
