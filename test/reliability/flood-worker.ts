/**
 * A flood in its own process, so its sockets' work does not slow the clients whose latency is
 * measured: `node --import tsx flood-worker.ts '<json>'` prints `ready`, then obeys lines on
 * stdin: `on` starts (or restarts) the flood, `off` pauses it, `end` stops it and prints the
 * attempts as one JSON line. While on, each of `flooders` loops connects about every
 * `periodMs` (the first at a random offset) and waits for the server to close the connection.
 */
import { createInterface } from 'node:readline';
import { seededRandom } from './ledger.js';
import { SOURCE_ADDRESSES } from './ledger-client.js';
import { type Attempt, attempt } from './load.js';

/** The worker's orders. */
export interface FloodOrders {
  readonly port: number;
  readonly flooders: number;
  readonly periodMs: number;
  readonly seed: number;
}

/** What the worker reports: one entry per attempt, `[closeMs or null, received, errorCode]`. */
export type FloodReport = [number | null, string, string | null][];

/** How often an idle flood loop checks whether it was switched on, ms. */
const IDLE_POLL_MS = 10;

const orders = JSON.parse(process.argv[2] ?? '{}') as FloodOrders;
const random = seededRandom(orders.seed);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
let on = false;
let ended = false;
const attempts: Attempt[] = [];

const loops = Array.from({ length: orders.flooders }, async (_, i) => {
  const offset = Math.floor(random() * orders.periodMs);
  while (!ended) {
    if (!on) {
      await sleep(IDLE_POLL_MS);
      continue;
    }
    await sleep(offset);
    while (on && !ended) {
      const next = performance.now() + orders.periodMs;
      attempts.push(
        await attempt(orders.port, {
          localAddress: SOURCE_ADDRESSES[i % SOURCE_ADDRESSES.length]!,
          timeoutMs: 5000,
        }),
      );
      await sleep(Math.max(0, next - performance.now()));
    }
  }
});

const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  if (line === 'on') on = true;
  else if (line === 'off') on = false;
  else if (line === 'end') {
    on = false;
    ended = true;
    lines.close();
    void Promise.all(loops).then(() => {
      const report: FloodReport = attempts.map((a) => [
        a.connected && !Number.isNaN(a.closeMs) ? a.closeMs : null,
        a.received,
        a.errorCode ?? null,
      ]);
      process.stdout.write(`${JSON.stringify(report)}\n`);
    });
  }
});
process.stdout.write('ready\n');
