/**
 * Scenario 4: slowloris. 1,000 connections that trickle one byte a second (never a whole line)
 * or say nothing must each be closed (FIN, IdleTimeoutError) at the idle deadline after their
 * last byte, while 50 legitimate clients keep being served with their p99 within 2x (+ floor)
 * of their p99 without the attack.
 *
 * aionet's idle deadline counts time without a byte either way, so a trickler is closed only
 * when it is slower than the deadline: the deadline here (750 ms) is under the trickle period
 * (1 s). See docs/reliability.md for what that leaves open.
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
import { connectMany } from './ledger-client.js';
import { latenciesBetween, pacedLoad } from './load.js';
import { AttackWorker } from './workers.js';

const ATTACKERS = 1000;
const LEGIT = 50;
const IDLE_MS = 750;
/** The registry sweeps every quarter of the shortest deadline. */
const SWEEP_MS = IDLE_MS / 4;
const TRICKLE_MS = 1000;
/**
 * A close counts as "at the deadline" within one sweep either side of it (activity is stamped
 * with the sweep's coarse clock, so it can fire up to a sweep early as well as late), plus
 * SCHEDULING_MS for the two processes to get the CPU on a shared machine.
 */
const SCHEDULING_MS = 100;
const PERIOD_MS = 50;
const WINDOW_MS = 1500;
const WARMUP_MS = 500;
const TIMING_ROUNDS = 3;
/** The attackers arrive over this long, ms (from a worker process), as a real one's would. */
const SPREAD_MS = 1000;

for (const transport of transports()) {
  it(`[4/${transport}] slowloris: ${ATTACKERS} trickling or silent connections`, {
    timeout: 90_000,
  }, async (t) => {
    const fixture = await Fixture.start({
      transport,
      framing: 'line',
      backlog: 4096,
      idleTimeout: IDLE_MS,
    });
    const workers: AttackWorker[] = [];
    try {
      const started = performance.now();
      const random = seededRandom(4);
      const worker = await AttackWorker.start({
        mode: 'slowloris',
        port: fixture.port,
        count: ATTACKERS,
        seed: 4,
        spreadMs: SPREAD_MS,
        trickleMs: TRICKLE_MS,
      });
      workers.push(worker);
      const legit = await connectMany(LEGIT, LEGIT, (i) => ({
        port: fixture.port,
        connId: `l${i}`,
        framing: 'line',
      }));
      // One load through every phase: a legitimate client is never silent for long.
      const load = pacedLoad(legit, PERIOD_MS, random);
      await delay(WARMUP_MS);
      let attackers: AttackReport = [];
      let early = Number.POSITIVE_INFINITY;
      let late = 0;
      const timing = await timingRounds(TIMING_ROUNDS, async () => {
        const calm = performance.now();
        await delay(WINDOW_MS);
        const attack = performance.now();
        const report = await worker.wave();
        const done = performance.now();
        attackers = attackers.concat(report);
        const idle = report.map(([idleMs]) => idleMs ?? Number.POSITIVE_INFINITY);
        const first = Math.min(...idle);
        const last = Math.max(...idle);
        early = Math.min(early, first);
        late = Math.max(late, last);
        // Acks of the last messages may still be on their way: give them a period.
        await delay(PERIOD_MS * 2);
        const p99Base = percentile(latenciesBetween(legit, calm, attack), 99);
        const p99Loaded = percentile(latenciesBetween(legit, attack, done), 99);
        const limit = latencyLimit(p99Base);
        return {
          ok:
            first >= IDLE_MS - SWEEP_MS &&
            last <= IDLE_MS + SWEEP_MS + SCHEDULING_MS &&
            p99Loaded <= limit,
          inconclusive: p99Base > NOISE_CEILING_MS,
          line:
            `attackers closed ${ms(first)}–${ms(last)} after their last byte; legit p99 ` +
            `${ms(p99Base)} alone, ${ms(p99Loaded)} under attack (limit 2x+${LATENCY_FLOOR_MS} = ${ms(limit)})`,
        };
      });
      await load.stop();
      await delay(100);
      const legitUp = legit.filter((client) => !client.isClosed).length;
      // The server closes first (shutdown: FIN): TIME_WAIT stays on its port, not on the
      // clients' source ports, which the next scenarios bind again.
      const result = await fixture.stop();
      await Promise.all(legit.map((client) => client.closed));
      assert.equal(
        result.code,
        0,
        `fixture exit ${result.code} ${result.signal}: ${result.stderr}`,
      );
      const summary = result.summary!;
      const ledger = checkLedger(legit, summary);
      const closed = attackers.filter(([idleMs]) => idleMs !== null).length;
      const withFin = attackers.filter(
        ([, fin, errorCode]) => fin === true && errorCode === null,
      ).length;
      figure(
        `4/${transport}`,
        `${closed}/${attackers.length} attackers closed (${withFin} by FIN, idle_timeout ` +
          `${summary.stats.closed.idle_timeout}), ${ms(early)}–${ms(late)} after their last byte ` +
          `(deadline ${IDLE_MS} ms, sweep ${SWEEP_MS} ms); ${timing.lines.join('; ')}; ` +
          `${legitUp}/${LEGIT} legit up, ledger ${ledger.problems.length === 0 ? 'ok' : 'BROKEN'}, ${since(started)}`,
      );
      assert.equal(closed, attackers.length, 'every attacker closed');
      assert.equal(withFin, attackers.length, 'closed gracefully (FIN, no reset)');
      assert.equal(summary.stats.closed.idle_timeout, attackers.length);
      assert.equal(legitUp, LEGIT, 'no legitimate client closed');
      assert.deepEqual(ledger.problems, []);
      await assertTiming(t, timing);
    } finally {
      for (const worker of workers) worker.kill();
      fixture.kill();
    }
  });
}
