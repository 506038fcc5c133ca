/**
 * Scenario 2: a flood past maxConnections. 1,000 clients are served; 1,000 more (from a worker
 * process) keep knocking, each about once a second, while the served ones run paced requests.
 * Every extra attempt must be turned away ('busy' + FIN) within 100 ms and counted in
 * `stats.rejected`, and the served clients' p99 must stay within 2x (+ floor) of the same
 * clients' p99 unflooded, measured in alternating windows.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { AttackReport } from './attack-worker.js';
import {
  assertTiming,
  checkLedger,
  delay,
  figure,
  LATENCY_FLOOR_MS,
  latencyLimit,
  ms,
  NOISE_CEILING_MS,
  percentile,
  since,
  timingRounds,
} from './checks.js';
import { Fixture, transports } from './fixture-process.js';
import { seededRandom } from './ledger.js';
import { connectMany, SOURCE_ADDRESSES } from './ledger-client.js';
import { latenciesBetween, pacedLoad } from './load.js';
import { AttackWorker } from './workers.js';

const LIMIT = 1000;
const FLOODERS = 1000;
/** Paced load of the served clients: one message per client every PERIOD_MS (5,000/s). */
const PERIOD_MS = 200;
/** Unflooded and flooded windows alternate, WINDOWS of each, WINDOW_MS long. */
const WINDOW_MS = 1000;
const WINDOWS = 2;
/** Each flooder reconnects this often, ms: 1,000 attempts a second in all. */
const FLOOD_PERIOD_MS = 1000;
const CLOSE_WITHIN_MS = 100;
/** Time for the acks of a window's last messages and for attempts in flight, ms. */
const SETTLE_MS = 200;
/** A paced run before the measured ones, so both measure a warmed-up (JIT-compiled) server. */
const WARMUP_MS = 1000;
/** Timing criteria are measured up to this many times (the machine is shared; see docs). */
const TIMING_ROUNDS = 3;

for (const transport of transports()) {
  it(`[2/${transport}] flood of ${FLOODERS} past maxConnections ${LIMIT}`, {
    timeout: 90_000,
  }, async (t) => {
    const fixture = await Fixture.start({
      transport,
      framing: 'line',
      backlog: 4096,
      maxConnections: LIMIT,
      rejectMessage: 'busy\n',
    });
    const workers: AttackWorker[] = [];
    try {
      const started = performance.now();
      const random = seededRandom(2);
      const flood = await AttackWorker.start({
        mode: 'flood',
        port: fixture.port,
        count: FLOODERS,
        periodMs: FLOOD_PERIOD_MS,
        seed: 2,
      });
      workers.push(flood);
      const served = await connectMany(LIMIT, 128, (i) => ({
        port: fixture.port,
        connId: `s${i}`,
        framing: 'line',
        localAddress: SOURCE_ADDRESSES[i % SOURCE_ADDRESSES.length]!,
      }));
      await Promise.all(served.map((client) => client.pingPong(2, 10_000)));
      // One paced load throughout; the flood is switched on for every other window.
      const load = pacedLoad(served, PERIOD_MS, random);
      await delay(WARMUP_MS);

      const attempts: AttackReport = [];
      const timing = await timingRounds(TIMING_ROUNDS, async () => {
        const base: number[] = [];
        const flooded: number[] = [];
        const round: AttackReport = [];
        for (let i = 0; i < WINDOWS; i++) {
          const calm = performance.now();
          await delay(WINDOW_MS);
          const storm = performance.now();
          flood.on();
          await delay(WINDOW_MS);
          flood.off();
          const end = performance.now();
          await delay(SETTLE_MS);
          base.push(...latenciesBetween(served, calm, storm));
          flooded.push(...latenciesBetween(served, storm, end));
          round.push(...(await flood.collect()));
        }
        attempts.push(...round);
        const closeTimes = round.map(([closeMs]) => closeMs ?? Number.POSITIVE_INFINITY);
        const slowest = Math.max(...closeTimes);
        const p99Base = percentile(base, 99);
        const p99Flooded = percentile(flooded, 99);
        const limit = latencyLimit(p99Base);
        return {
          ok: slowest <= CLOSE_WITHIN_MS && p99Flooded <= limit,
          inconclusive: p99Base > NOISE_CEILING_MS,
          line:
            `${round.length} flood attempts closed in p99 ` +
            `${ms(percentile(closeTimes, 99))}, max ${ms(slowest)}; served p99 ${ms(p99Base)} ` +
            `unflooded, ${ms(p99Flooded)} flooded (limit 2x+${LATENCY_FLOOR_MS} = ${ms(limit)})`,
        };
      });
      await load.stop();
      attempts.push(...(await flood.report()));

      const turnedAway = attempts.filter(
        ([closeMs, received]) => closeMs !== null && received === 'busy\n',
      );
      const failed: Record<string, number> = {};
      for (const [closeMs, received, errorCode] of attempts) {
        if (closeMs !== null && received === 'busy\n') continue;
        const key = errorCode ?? 'no busy';
        failed[key] = (failed[key] ?? 0) + 1;
      }
      const stillUp = served.filter((client) => !client.isClosed).length;
      // The server closes first (shutdown: FIN): TIME_WAIT stays on its port, not on the
      // clients' source ports, which the next scenarios bind again.
      const result = await fixture.stop();
      await Promise.all(served.map((client) => client.closed));
      assert.equal(
        result.code,
        0,
        `fixture exit ${result.code} ${result.signal}: ${result.stderr}`,
      );
      const summary = result.summary!;
      const ledger = checkLedger(served, summary);
      figure(
        `2/${transport}`,
        `${summary.stats.accepted} served, ${turnedAway.length}/${attempts.length} flood attempts ` +
          `turned away (others: ${JSON.stringify(failed)}), rejected ${summary.stats.rejected}, ledger ` +
          `${ledger.problems.length === 0 ? 'ok' : 'BROKEN'}; ${timing.lines.join('; ')}; ` +
          `server loop delay max ${ms(summary.loopDelay.max)}, ${since(started)}`,
      );
      assert.equal(summary.stats.accepted, LIMIT, 'exactly the limit served');
      assert.equal(stillUp, LIMIT, 'no served client lost');
      assert.equal(turnedAway.length, attempts.length, 'every flood attempt turned away');
      assert.equal(summary.stats.rejected, attempts.length, 'every turn-away counted');
      assert.deepEqual(ledger.problems, []);
      await assertTiming(t, timing);
    } finally {
      for (const worker of workers) worker.kill();
      fixture.kill();
    }
  });
}
