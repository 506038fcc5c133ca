/**
 * Scale-out behind a real HAProxy: three aionet instances on loopback ports, HAProxy in TCP
 * mode in front (PROXY protocol v2, health checks on `/healthz`), ledger clients driving load
 * through it. Mid-load one instance is drained with SIGTERM and another killed with SIGKILL.
 *
 * Checked and printed: the drained instance's clients saw a FIN, never a reset, and
 * reconnected elsewhere; HAProxy marked the killed one down within its check interval × fall
 * (plus one interval and the check timeout); no acknowledged message is missing from the
 * ledger of the instance that acknowledged it, none was acknowledged twice; the only losses
 * are messages in flight on the killed instance's connections, counted.
 *
 * `npm run test:scaleout`. Needs `haproxy` (Debian's package; .ci/run installs it).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type Backend, HaproxyProcess, haproxyConfig, haproxyVersion } from './haproxy.js';
import type { InstanceConfig, InstanceLedger } from './instance.js';
import { LedgerLoad } from './ledger-load.js';

const INSTANCE = fileURLToPath(new URL('./instance.ts', import.meta.url));
/** Health checks every 200 ms; 2 failures mark a server down, 2 successes up. */
const CHECK = { interMs: 200, fall: 2, rise: 2 };
/** HAProxy's `timeout check`, in ms (see haproxy.ts). */
const CHECK_TIMEOUT_MS = 1000;
/** Ledger clients, each with one message in flight. */
const CLIENTS = 24;
/** Milliseconds of load before the drain, between drain and kill, and after the kill. */
const PHASE_MS = 1500;
/**
 * The runs: the net transport behind `send-proxy-v2`, and the native transport without it (the
 * native engine has no PROXY stage). `AIONET_SCALEOUT_TRANSPORT=net|native` runs one.
 */
const RUNS = [
  { transport: 'net', proxy: true },
  { transport: 'native', proxy: false },
] as const;
const ONLY = process.env.AIONET_SCALEOUT_TRANSPORT;

const version = haproxyVersion();
const dir = mkdtempSync(join(tmpdir(), 'aionet-scaleout-'));
const children: ChildProcess[] = [];
after(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

/** A port that was free a moment ago. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen({ host: '127.0.0.1', port: 0 }, () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/** Starts one instance; resolves once it listens. */
async function startInstance(name: string, run: Run) {
  const config: InstanceConfig = {
    name,
    port: await freePort(),
    metricsPort: await freePort(),
    transport: run.transport,
    proxy: run.proxy,
    drainTimeout: 3000,
    ledgerPath: join(dir, `${run.transport}-${name}.json`),
  };
  const child = spawn(process.execPath, [...process.execArgv, INSTANCE, JSON.stringify(config)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  let out = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      if (out.includes('\n')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`instance ${name} exited (${code})`)));
  });
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? '?')),
  );
  const backend: Backend = { name, port: config.port, metricsPort: config.metricsPort };
  return { child, backend, config, exited };
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string) {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return performance.now();
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type Run = (typeof RUNS)[number];

describe('scale-out behind HAProxy', {
  skip: version === undefined && 'haproxy not installed',
}, () => {
  for (const run of RUNS) {
    const { transport, proxy } = run;
    it(`${transport}${proxy ? ' + PROXY v2' : ''}: drains one instance (FIN, reconnect), loses only the killed one’s in-flight messages`, {
      skip: ONLY !== undefined && ONLY !== transport,
    }, async (t) => {
      const [a, b, c] = await Promise.all(['a', 'b', 'c'].map((name) => startInstance(name, run)));
      const port = await freePort();
      const statsSocket = join(dir, `haproxy-${transport}.sock`);
      const haproxyDir = join(dir, transport);
      mkdirSync(haproxyDir);
      const haproxy = new HaproxyProcess(
        haproxyDir,
        haproxyConfig({
          port,
          backends: [a!.backend, b!.backend, c!.backend],
          check: CHECK,
          statsSocket,
          proxy,
        }),
        statsSocket,
      );
      children.push(haproxy.child);
      try {
        await waitFor(
          async () => {
            try {
              return [...(await haproxy.status()).values()].every((s) => s === 'UP');
            } catch {
              return false;
            }
          },
          10_000,
          'every server UP',
        );
        const load = new LedgerLoad(port, CLIENTS);
        await sleep(PHASE_MS);

        // Drain a: /healthz turns 503, its listener closes, each connection ends after its ack.
        const drainAt = performance.now();
        a!.child.kill('SIGTERM');
        assert.equal(await a!.exited, 0);
        const drainedAt = performance.now();
        await sleep(PHASE_MS);

        // Kill b: HAProxy must mark it down within fall × inter (+ one interval, + check timeout).
        const killAt = performance.now();
        b!.child.kill('SIGKILL');
        const downAt = await waitFor(
          async () => (await haproxy.status()).get('b')?.startsWith('DOWN') === true,
          10_000,
          'b marked DOWN',
        );
        await sleep(PHASE_MS);
        const acksBeforeStop = load.acks.length;
        const stopAt = performance.now();
        await load.stop();
        c!.child.kill('SIGTERM');
        assert.equal(await c!.exited, 0);

        const ledgers = new Map<string, InstanceLedger>();
        for (const name of ['a', 'c']) {
          ledgers.set(
            name,
            JSON.parse(readFileSync(join(dir, `${transport}-${name}.json`), 'utf8')),
          );
        }
        const ends = load.ends.filter((end) => end.at < stopAt);
        const endsOn = (name: string) => ends.filter((end) => end.instance === name);
        const detectMs = downAt - killAt;
        const detectBound = CHECK.interMs * (CHECK.fall + 1) + CHECK_TIMEOUT_MS;
        const ackedBy = (name: string) => load.acks.filter((ack) => ack.instance === name);
        const missing = (name: string) => {
          const server = new Set(ledgers.get(name)!.acked);
          return ackedBy(name).filter((ack) => !server.has(ack.key)).length;
        };
        const lostOnB = endsOn('b').filter((end) => end.inFlight).length;
        const failedElsewhere = ends.filter((end) => end.instance !== 'b' && end.how !== 'fin');
        // A client sends its next message as soon as an ack arrives, so the FIN that follows a
        // draining instance's last ack can find one more message on the way. The instance never
        // read it (it is not in its ledger): the client sends it again elsewhere. Not a loss.
        const aLedger = new Set(ledgers.get('a')!.acked);
        const retriedAfterFin = endsOn('a').filter((end) => end.inFlight);
        const processedButUnacked = retriedAfterFin.filter((end) => aLedger.has(end.key!)).length;
        const figures = {
          haproxy: version,
          transport,
          proxyProtocol: proxy,
          clients: CLIENTS,
          connections: load.connections,
          acks: load.acks.length,
          acksBeforeStop,
          acksBy: Object.fromEntries(['a', 'b', 'c'].map((n) => [n, ackedBy(n).length])),
          drainMs: Math.round(drainedAt - drainAt),
          drainedInstance: {
            connectionsEnded: endsOn('a').length,
            fin: endsOn('a').filter((end) => end.how === 'fin').length,
            reset: endsOn('a').filter((end) => end.how !== 'fin').length,
            retriedAfterFin: retriedAfterFin.length,
            processedButUnacked,
            serverDrained: ledgers.get('a')!.drained,
            serverAborted: ledgers.get('a')!.aborted,
          },
          killedInstance: {
            detectMs: Math.round(detectMs),
            detectBoundMs: detectBound,
            connectionsEnded: endsOn('b').length,
            endedBy: countBy(endsOn('b').map((end) => end.how)),
            inFlightLost: lostOnB,
          },
          ledger: {
            duplicates: load.duplicates,
            mismatches: load.mismatches,
            missingFromServerLedger: { a: missing('a'), c: missing('c') },
            serverDuplicates: {
              a: duplicates(ledgers.get('a')!.acked),
              c: duplicates(ledgers.get('c')!.acked),
            },
          },
          failedElsewhere: failedElsewhere.length,
          endsWithoutAck: ends.filter((end) => end.instance === '-').length,
        };
        t.diagnostic(`scale-out figures: ${JSON.stringify(figures)}`);
        console.log(`scale-out figures: ${JSON.stringify(figures, null, 2)}`);

        // Load went through every instance.
        for (const name of ['a', 'b', 'c']) assert.ok(ackedBy(name).length > 0, `${name} served`);
        // The drained instance: every connection ended with a FIN, none reset, nothing lost.
        assert.ok(figures.drainedInstance.connectionsEnded > 0);
        assert.equal(figures.drainedInstance.reset, 0, 'no reset from the drained instance');
        assert.equal(processedButUnacked, 0, 'the drained instance acked all it processed');
        assert.equal(ledgers.get('a')!.aborted, 0);
        // …and its clients reconnected: each one's last acks came from another instance.
        const lastInstance = new Map<string, string>();
        for (const ack of load.acks) lastInstance.set(ack.key.split(' ')[0]!, ack.instance);
        for (const end of endsOn('a')) {
          assert.notEqual(lastInstance.get(String(end.client)), 'a', `client ${end.client}`);
        }
        // HAProxy stopped routing to the killed instance within its check interval.
        assert.ok(detectMs <= detectBound, `b marked down after ${detectMs} ms`);
        // Ledger: no duplicate, nothing acknowledged missing from the instance's own ledger.
        assert.equal(load.duplicates, 0);
        assert.equal(load.mismatches, 0);
        assert.deepEqual(figures.ledger.missingFromServerLedger, { a: 0, c: 0 });
        assert.deepEqual(figures.ledger.serverDuplicates, { a: 0, c: 0 });
        // Errors only on the killed instance, at most one message in flight per connection.
        assert.equal(failedElsewhere.length, 0, JSON.stringify(failedElsewhere.slice(0, 5)));
        assert.ok(lostOnB <= endsOn('b').length);
        // Every client's messages were all acknowledged in order, in the end.
        assert.equal(
          load.acks.length,
          load.acknowledged.reduce((sum, n) => sum + n, 0),
        );
        if (proxy) {
          // The PROXY header carried each client's own address through HAProxy.
          const wrong = load.acks.filter((ack) => ack.peer !== ack.local);
          assert.equal(wrong.length, 0, JSON.stringify(wrong.slice(0, 3)));
        }
      } finally {
        haproxy.stop();
      }
    });
  }
});

function countBy(values: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}

function duplicates(keys: readonly string[]): number {
  return keys.length - new Set(keys).size;
}
