/**
 * Micro-benchmark of what observability adds to a server, in CPU time, where a loaded machine
 * cannot blur it the way it blurs a throughput figure:
 *
 * 1. the event-loop delay monitor prom-client starts (`monitorEventLoopDelay`, 10 ms
 *    resolution): CPU per second of an idle process with and without it, alternating;
 * 2. counting, per message: the chapter's request/reply through the shared transport state
 *    machine (on a transport whose I/O does nothing), built as is vs. a copy of `dist/` with
 *    the counter increments stripped out of `stream-transport.js`; alternating trials, medians;
 * 3. a scrape: `registry.metrics()` of `createMetrics(server)` with prom-client's default
 *    metrics, per call.
 *
 * Run: npm run build && npx tsx bench/observability-micro.ts     (about 30 s; one core)
 *      AIONET_DIST=/tmp/snapshot/dist npx tsx bench/observability-micro.ts
 *
 * Times are this process's CPU time (user + system), not wall time.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

/** The build to measure: this checkout's, or AIONET_DIST (a snapshot while dist/ is rebuilt). */
const DIST =
  process.env.AIONET_DIST === undefined
    ? new URL('../dist/', import.meta.url)
    : pathToFileURL(`${process.env.AIONET_DIST.replace(/\/$/, '')}/`);
/** Round trips per trial: long enough to hide timer granularity, short enough to alternate often. */
const MESSAGES_PER_TRIAL = 1_000_000;
const TRIALS = 15;
const SCRAPES = 2_000;
const IDLE_MS = 1_000;
const IDLE_ROUNDS = 5;

/** The counter increments of the transport hot path, as tsc emits them. */
const COUNTING = [
  /owner\.stats\.bytesReceived \+= data\.length;/,
  /this\.#owner\.stats\.reads\+\+;/,
  /^(\s*)stats\.reads\+\+;/m,
  /stats\.bytesReceived \+= nbytes;/,
  /owner\.stats\.bytesSent \+= length;/,
];

function cpuMicros(): number {
  const { user, system } = process.cpuUsage();
  return user + system;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** A copy of dist/ whose transports count nothing. */
function uncountedDist(): { url: URL; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'aionet-uncounted-'));
  cpSync(DIST, join(dir, 'dist'), { recursive: true });
  const file = join(dir, 'dist', 'stream-transport.js');
  let text = readFileSync(file, 'utf8');
  for (const pattern of COUNTING) {
    if (!pattern.test(text))
      throw new Error(`no ${pattern} in stream-transport.js: update COUNTING`);
    text = text.replace(pattern, (match) => match.replace(/\S.*$/, '; // uncounted'));
  }
  writeFileSync(file, text);
  return {
    url: pathToFileURL(join(dir, 'dist/')),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** The parts of the dist/ under test a message loop needs. */
interface DistModules {
  ConnectionRegistry: new (options: object) => { add(transport: unknown): void };
  NO_LIMITS: object;
  StreamTransport: abstract new (protocol: object, owner: object) => object;
}

/**
 * One message loop on a dist/: the chapter's protocol on a transport whose I/O hooks do nothing,
 * owned by a real `ConnectionRegistry` as the `net` and native backends are. (The test kit's
 * `MemoryTransport` would not do: it reaches its owner through a Proxy, which makes every
 * counter access cost a trap call.) Returns a function running `n` round trips.
 */
async function messageLoop(dist: URL): Promise<(n: number) => void> {
  const modules = {
    ...(await import(new URL('connection-registry.js', dist).href)),
    ...(await import(new URL('stream-transport.js', dist).href)),
  } as DistModules;
  const Base = modules.StreamTransport as unknown as new (
    protocol: object,
    owner: object,
  ) => {
    _onConnected(): void;
    _onData(data: Buffer): void;
    write(data: Uint8Array): void;
  };
  /** A socket that takes every byte at once: only the state machine's own work is left. */
  class NullTransport extends Base {
    _send(): void {}
    _sendMany(): void {}
    _bufferedSize(): number {
      return 0;
    }
    _shutdownWrite(): void {}
    _closeGracefully(): void {}
    _reset(): void {}
    _setReading(): void {}
    _extraInfo(): undefined {
      return undefined;
    }
    start(): this {
      this._onConnected();
      return this;
    }
    feed(data: Buffer): void {
      this._onData(data);
    }
  }
  const registry = new modules.ConnectionRegistry({ onError: () => {}, limits: modules.NO_LIMITS });
  const reply = Buffer.from('Message received');
  const transport: NullTransport = new NullTransport(
    { dataReceived: () => transport.write(reply) },
    registry,
  ).start();
  registry.add(transport);
  const message = Buffer.from('hello\n');
  return (n) => {
    for (let i = 0; i < n; i++) transport.feed(message);
  };
}

async function countingCost(): Promise<void> {
  const uncounted = uncountedDist();
  try {
    const loops = {
      counted: await messageLoop(DIST),
      uncounted: await messageLoop(uncounted.url),
    };
    const times: Record<keyof typeof loops, number[]> = { counted: [], uncounted: [] };
    for (const loop of Object.values(loops)) loop(MESSAGES_PER_TRIAL); // warm-up
    for (let trial = 0; trial < TRIALS; trial++) {
      const order =
        trial % 2 === 0 ? (['counted', 'uncounted'] as const) : (['uncounted', 'counted'] as const);
      for (const name of order) {
        const start = cpuMicros();
        loops[name](MESSAGES_PER_TRIAL);
        times[name].push(((cpuMicros() - start) * 1000) / MESSAGES_PER_TRIAL);
      }
    }
    const counted = median(times.counted);
    const plain = median(times.uncounted);
    console.log(
      '2. counting, per request/reply through the transport (median of %d trials):',
      TRIALS,
    );
    console.log(`   counted   ${counted.toFixed(0)} ns   uncounted ${plain.toFixed(0)} ns`);
    console.log(
      `   difference ${(counted - plain).toFixed(1)} ns per message (${(((counted - plain) / plain) * 100).toFixed(2)}%)`,
    );
    const spread = (list: number[]) =>
      `${Math.min(...list).toFixed(0)}–${Math.max(...list).toFixed(0)}`;
    console.log(
      `   ranges: counted ${spread(times.counted)} ns, uncounted ${spread(times.uncounted)} ns`,
    );
  } finally {
    uncounted.remove();
  }
}

async function scrapeCost(): Promise<void> {
  const { ConnectionRegistry } = await import(new URL('connection-registry.js', DIST).href);
  const { NO_LIMITS } = await import(new URL('stream-transport.js', DIST).href);
  const { Server } = await import(new URL('server.js', DIST).href);
  const { createMetrics } = await import(new URL('metrics/create-metrics.js', DIST).href);
  const registry = new ConnectionRegistry({ onError: () => {}, limits: NO_LIMITS });
  const metrics = createMetrics(new Server([], registry));
  for (let i = 0; i < 100; i++) await metrics.metrics();
  const start = cpuMicros();
  for (let i = 0; i < SCRAPES; i++) await metrics.metrics();
  const perScrape = (cpuMicros() - start) / SCRAPES;
  console.log('3. one scrape (aionet metrics + prom-client defaults):');
  console.log(
    `   ${perScrape.toFixed(0)} µs of CPU; at one scrape a second: ${(perScrape / 1e4).toFixed(3)}% of a core`,
  );
}

async function idleCpu(ms: number): Promise<number> {
  const start = cpuMicros();
  await new Promise((resolve) => setTimeout(resolve, ms));
  return ((cpuMicros() - start) / ms) * 1000;
}

async function monitorCost(): Promise<void> {
  await idleCpu(500); // let start-up work (module loading, GC) settle
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  const without: number[] = [];
  const withMonitor: number[] = [];
  for (let round = 0; round < IDLE_ROUNDS; round++) {
    without.push(await idleCpu(IDLE_MS));
    histogram.enable();
    withMonitor.push(await idleCpu(IDLE_MS));
    histogram.disable();
  }
  const off = median(without);
  const on = median(withMonitor);
  console.log('1. event-loop delay monitor (10 ms resolution), idle process (medians):');
  console.log(
    `   ${off.toFixed(0)} µs CPU/s without, ${on.toFixed(0)} µs CPU/s with: ` +
      `${((on - off) / 1e4).toFixed(3)}% of a core`,
  );
}

// The idle measurement first, before the other parts leave garbage and prom-client's own
// monitor behind.
await monitorCost();
await countingCost();
await scrapeCost();
