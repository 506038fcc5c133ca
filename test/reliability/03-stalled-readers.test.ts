/**
 * Scenario 3: ten clients that never read, beside 100 healthy ones. Each stalled client asks
 * for 50 MiB of acks at once and reads none: the server's memory must stay under
 * base + 10 x maxWriteBuffer + slack, each stalled one must be reset with WriteStallError at
 * the stall deadline (±0.5 s), and the healthy clients' p99 must stay within 2x (+ floor) of
 * their p99 without the stalled ones.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import {
  assertTiming,
  checkLedger,
  delay,
  figure,
  LATENCY_FLOOR_MS,
  latencyLimit,
  mib,
  ms,
  NOISE_CEILING_MS,
  percentile,
  since,
  timingRounds,
} from './checks.js';
import { Fixture, transports } from './fixture-process.js';
import { seededRandom } from './ledger.js';
import { connectMany, type LedgerClient, SOURCE_ADDRESSES } from './ledger-client.js';
import { pacedRun } from './load.js';

const HEALTHY = 100;
const STALLED = 10;
/** The stall deadline, ms. Sweeps run every quarter of it, so it fires within ±250 ms. */
const STALL_MS = 1000;
const STALL_TOLERANCE_MS = 500;
const CAP = 1024 * 1024;
/** Each stalled client asks for BURST acks of FILL bytes: 50 MiB it will never read. */
const BURST = 200;
const FILL = 256 * 1024;
/**
 * Memory slack over base + 10 x cap, bytes. Acks the kernel took (up to its socket buffers,
 * about 4 MiB per stalled peer here) are garbage only a GC reclaims; 10 peers' worth, plus
 * heap growth of the healthy load, fits well within it — and an unbounded server would need
 * 500 MiB.
 */
const SLACK = 64 * 1024 * 1024;
/** The healthy clients' paced load: one message each every PERIOD_MS (2,000/s). */
const PERIOD_MS = 50;
const WINDOW_MS = 2000;
const TIMING_ROUNDS = 3;
const STAGGER_MS = 50;

/** A stalled client and when (Date.now()) it sent its burst. */
interface Stalled {
  readonly client: LedgerClient;
  readonly at: number;
}

/**
 * Starts STALLED clients that send their burst, STAGGER_MS apart, and never read. Filling a
 * peer's socket buffers costs the server about 4 MiB of acks; staggering spreads that work as
 * peers arriving over half a second would.
 */
async function stall(port: number, round: number): Promise<Stalled[]> {
  const clients = await connectMany(STALLED, STALLED, (i) => ({
    port,
    connId: `x${round}.${i}`,
    framing: 'line',
    localAddress: SOURCE_ADDRESSES[i % SOURCE_ADDRESSES.length]!,
  }));
  const stalled: Stalled[] = [];
  for (const client of clients) {
    client.socket.pause();
    stalled.push({ client, at: Date.now() });
    client.sendBatch(BURST, FILL);
    await delay(STAGGER_MS);
  }
  return stalled;
}

for (const transport of transports()) {
  it(`[3/${transport}] ${STALLED} stalled readers beside ${HEALTHY} healthy`, {
    timeout: 90_000,
  }, async (t) => {
    const fixture = await Fixture.start({
      transport,
      framing: 'line',
      writeStallTimeout: STALL_MS,
      maxWriteBuffer: CAP,
      maxFrame: 2 * FILL,
    });
    try {
      const started = performance.now();
      const random = seededRandom(3);
      const healthy = await connectMany(HEALTHY, 50, (i) => ({
        port: fixture.port,
        connId: `h${i}`,
        framing: 'line',
        localAddress: SOURCE_ADDRESSES[i % SOURCE_ADDRESSES.length]!,
      }));
      await pacedRun(healthy, PERIOD_MS, 1000, random);
      const base = fixture.rss();
      let peak = base;
      const stalled: Stalled[] = [];
      const timing = await timingRounds(TIMING_ROUNDS, async (round) => {
        const unloaded = await pacedRun(healthy, PERIOD_MS, WINDOW_MS, random);
        let sampling = true;
        const sampler = (async () => {
          while (sampling) {
            peak = Math.max(peak, fixture.rss());
            await delay(50);
          }
        })();
        const loadedRun = pacedRun(healthy, PERIOD_MS, WINDOW_MS, random);
        const group = await stall(fixture.port, round);
        stalled.push(...group);
        const loaded = await loadedRun;
        await delay(Math.max(0, group.at(-1)!.at + STALL_MS + STALL_TOLERANCE_MS - Date.now()));
        sampling = false;
        await sampler;
        const lostAt = new Map((await fixture.snapshot()).conns.map(([id, , , at]) => [id, at]));
        const drops = group.map(({ client, at }) => (lostAt.get(client.connId) ?? Number.NaN) - at);
        const early = Math.min(...drops);
        const late = Math.max(...drops);
        const onTime =
          early >= STALL_MS - STALL_TOLERANCE_MS && late <= STALL_MS + STALL_TOLERANCE_MS;
        const p99Base = percentile(unloaded, 99);
        const p99Loaded = percentile(loaded, 99);
        const limit = latencyLimit(p99Base);
        return {
          ok: onTime && p99Loaded <= limit,
          inconclusive: p99Base > NOISE_CEILING_MS,
          line:
            `stalled dropped ${ms(early)}–${ms(late)} after their burst; healthy p99 ` +
            `${ms(p99Base)} alone, ${ms(p99Loaded)} beside the stalled (limit 2x+` +
            `${LATENCY_FLOOR_MS} = ${ms(limit)})`,
        };
      });
      const healthyUp = healthy.filter((client) => !client.isClosed).length;
      for (const { client } of stalled) client.socket.destroy();
      // The server closes first (shutdown: FIN): TIME_WAIT stays on its port, not on the
      // clients' source ports, which the next scenarios bind again.
      const result = await fixture.stop();
      await Promise.all(healthy.map((client) => client.closed));
      assert.equal(
        result.code,
        0,
        `fixture exit ${result.code} ${result.signal}: ${result.stderr}`,
      );
      const summary = result.summary!;
      peak = Math.max(peak, summary.peakRss);
      const bound = base + STALLED * CAP + SLACK;
      const lost = new Map(summary.conns.map(([id, , code, lostAt]) => [id, { code, lostAt }]));
      const codes = new Set(
        stalled.map(({ client }) => lost.get(client.connId)?.code ?? 'not lost'),
      );
      const stalledIds = new Set(stalled.map(({ client }) => client.connId));
      const ledger = checkLedger([...healthy, ...stalled.map(({ client }) => client)], summary, {
        expected: (client) => (stalledIds.has(client.connId) ? null : undefined),
        unacked: (client) => stalledIds.has(client.connId),
      });
      figure(
        `3/${transport}`,
        `server RSS base ${mib(base)}, peak ${mib(peak)} (bound ${mib(bound)}), largest ` +
          `write buffer ${mib(summary.maxBuffered)} (cap ${mib(CAP)}); ` +
          `${stalled.length} stalled dropped (${[...codes].join(',')}; deadline ${STALL_MS} ms ` +
          `±${STALL_TOLERANCE_MS}); ${timing.lines.join('; ')}; ` +
          `ledger ${ledger.problems.length === 0 ? 'ok' : 'BROKEN'}, ${since(started)}`,
      );
      assert.ok(peak <= bound, `peak RSS ${mib(peak)} over ${mib(bound)}`);
      assert.ok(summary.maxBuffered <= CAP, `a write buffer held ${summary.maxBuffered} bytes`);
      assert.deepEqual([...codes], ['ERR_AIONET_WRITE_STALL']);
      assert.equal(summary.stats.closed.write_stall, stalled.length);
      assert.equal(healthyUp, HEALTHY, 'no healthy client lost');
      assert.deepEqual(ledger.problems, []);
      await assertTiming(t, timing);
    } finally {
      fixture.kill();
    }
  });
}
