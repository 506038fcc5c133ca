/**
 * Scenario 4: slowloris. 1,000 connections that trickle one byte a second (never a whole line)
 * or say nothing must each be closed (FIN, IdleTimeoutError) at the idle deadline after their
 * last byte, while 50 legitimate clients keep being served with their p99 within 2x (+ floor)
 * of their p99 without the attack.
 *
 * aionet's idle deadline counts time without a byte either way, so a trickler is closed only
 * when it is slower than the deadline: the deadline here (600 ms) is under the trickle period
 * (1 s). See docs/reliability.md for what that leaves open.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { it } from 'node:test';
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
  waitUntil,
} from './checks.js';
import { Fixture, transports } from './fixture-process.js';
import { seededRandom } from './ledger.js';
import { connectMany, SOURCE_ADDRESSES } from './ledger-client.js';
import { pacedRun } from './load.js';

const ATTACKERS = 1000;
const LEGIT = 50;
const IDLE_MS = 600;
/** The registry sweeps every quarter of the shortest deadline. */
const SWEEP_MS = IDLE_MS / 4;
const TRICKLE_MS = 1000;
/**
 * A close counts as "at the deadline" within one sweep either side of it (activity is stamped
 * with the sweep's coarse clock, so it can fire up to a sweep early as well as late), plus
 * SCHEDULING_MS for the two processes to get the CPU on a shared machine.
 */
const SCHEDULING_MS = 100;
const PERIOD_MS = 100;
const WINDOW_MS = 1500;
const TIMING_ROUNDS = 3;

/** One attacking connection. */
interface Attacker {
  connectedAt: number;
  lastByteAt: number;
  closedAt: number | undefined;
  fin: boolean;
  errorCode: string | undefined;
}

/** Opens an attacker: silent, or trickling one byte each TRICKLE_MS from its connect on. */
function attack(port: number, i: number, trickle: boolean): Promise<Attacker> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({
      port,
      host: '127.0.0.1',
      localAddress: SOURCE_ADDRESSES[i % SOURCE_ADDRESSES.length]!,
    });
    const attacker: Attacker = {
      connectedAt: 0,
      lastByteAt: 0,
      closedAt: undefined,
      fin: false,
      errorCode: undefined,
    };
    let timer: ReturnType<typeof setInterval> | undefined;
    const drip = () => {
      if (!socket.writable) return;
      attacker.lastByteAt = performance.now();
      socket.write('7');
    };
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.removeListener('error', reject);
      socket.on('error', (error: NodeJS.ErrnoException) => {
        attacker.errorCode ??= error.code;
      });
      attacker.connectedAt = performance.now();
      attacker.lastByteAt = attacker.connectedAt;
      if (trickle) {
        drip();
        timer = setInterval(drip, TRICKLE_MS);
      }
      resolve(attacker);
    });
    socket.on('end', () => {
      attacker.fin = true;
      attacker.closedAt ??= performance.now();
    });
    socket.on('close', () => {
      clearInterval(timer);
      attacker.closedAt ??= performance.now();
    });
  });
}

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
    try {
      const started = performance.now();
      const random = seededRandom(4);
      const legit = await connectMany(LEGIT, LEGIT, (i) => ({
        port: fixture.port,
        connId: `l${i}`,
        framing: 'line',
      }));
      await pacedRun(legit, PERIOD_MS, 500, random);
      const attackers: Attacker[] = [];
      let early = Number.POSITIVE_INFINITY;
      let late = 0;
      const timing = await timingRounds(TIMING_ROUNDS, async () => {
        const unloaded = await pacedRun(legit, PERIOD_MS, WINDOW_MS, random);
        const loadedRun = pacedRun(legit, PERIOD_MS, WINDOW_MS, random);
        const round: Attacker[] = [];
        for (let i = 0; i < ATTACKERS; i += 100) {
          const batch = Array.from({ length: 100 }, (_, k) =>
            attack(fixture.port, i + k, (i + k) % 2 === 0),
          );
          round.push(...(await Promise.all(batch)));
        }
        const loaded = await loadedRun;
        await waitUntil(() => round.every((a) => a.closedAt !== undefined), 5000);
        attackers.push(...round);
        const idle = round.map((a) => (a.closedAt ?? Number.POSITIVE_INFINITY) - a.lastByteAt);
        const first = Math.min(...idle);
        const last = Math.max(...idle);
        early = Math.min(early, first);
        late = Math.max(late, last);
        const p99Base = percentile(unloaded, 99);
        const p99Loaded = percentile(loaded, 99);
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
      await delay(100);
      const legitUp = legit.filter((client) => !client.isClosed).length;
      for (const client of legit) client.socket.end();
      await Promise.all(legit.map((client) => client.closed));
      const result = await fixture.stop();
      assert.equal(
        result.code,
        0,
        `fixture exit ${result.code} ${result.signal}: ${result.stderr}`,
      );
      const summary = result.summary!;
      const ledger = checkLedger(legit, summary);
      const closed = attackers.filter((a) => a.closedAt !== undefined).length;
      const withFin = attackers.filter((a) => a.fin && a.errorCode === undefined).length;
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
      fixture.kill();
    }
  });
}
