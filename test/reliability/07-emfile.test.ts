/**
 * Scenario 7: out of file descriptors. The server runs under `ulimit -n 64` (about 40 left for
 * connections once Node has started) and 200 clients arrive at once, each holding its
 * connection a little after its 10 acks. The server must survive, and every client must be
 * served in full once descriptors free up: a client whose connection is shed (net: libuv
 * accepts and closes it at once) or not accepted in time retries with a bounded back-off.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { checkLedger, delay, figure, since } from './checks.js';
import { Fixture, transports } from './fixture-process.js';
import { LedgerClient, SOURCE_ADDRESSES } from './ledger-client.js';

const DESCRIPTORS = 64;
const CLIENTS = 200;
const MESSAGES = 10;
/** A served client keeps its connection this long after its acks, ms: descriptors stay scarce. */
const HOLD_MS = 100;
/** One attempt gives up after this long, ms (a connection may wait in the backlog meanwhile). */
const ATTEMPT_TIMEOUT_MS = 5000;
const MAX_ATTEMPTS = 30;
/** Back-off before retry n: 20 ms doubling, at most 500 ms. */
const backoff = (attempt: number) => Math.min(500, 20 * 2 ** (attempt - 1));

/** One client: tries until it is served in full; returns how many attempts that took. */
async function serve(
  port: number,
  i: number,
  attempts: LedgerClient[],
  done: Set<string>,
): Promise<number> {
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    let client: LedgerClient | undefined;
    try {
      client = await LedgerClient.connect({
        port,
        connId: `e${i}.${attempt}`,
        framing: 'line',
        localAddress: SOURCE_ADDRESSES[i % SOURCE_ADDRESSES.length]!,
      });
      attempts.push(client);
      await client.pingPong(MESSAGES, ATTEMPT_TIMEOUT_MS);
      done.add(client.connId);
      await delay(HOLD_MS);
      client.socket.end();
      await client.closed;
      return attempt;
    } catch {
      client?.socket.destroy();
      await delay(backoff(attempt));
    }
  }
  throw new Error(`client ${i} not served in ${MAX_ATTEMPTS} attempts`);
}

for (const transport of transports()) {
  it(`[7/${transport}] ${CLIENTS} clients against a server under ulimit -n ${DESCRIPTORS}`, {
    timeout: 90_000,
  }, async () => {
    const fixture = await Fixture.start({ transport, framing: 'line' }, { ulimit: DESCRIPTORS });
    try {
      const started = performance.now();
      const atStart = fixture.fds();
      const attempts: LedgerClient[] = [];
      const done = new Set<string>();
      let peakFds = atStart;
      let sampling = true;
      const sampler = (async () => {
        while (sampling) {
          peakFds = Math.max(peakFds, fixture.fds());
          await delay(20);
        }
      })();
      const tries = await Promise.all(
        Array.from({ length: CLIENTS }, (_, i) => serve(fixture.port, i, attempts, done)),
      );
      sampling = false;
      await sampler;
      const alive = fixture.alive;
      const result = await fixture.stop();
      assert.equal(
        result.code,
        0,
        `fixture exit ${result.code} ${result.signal}: ${result.stderr}`,
      );
      const summary = result.summary!;
      const ledger = checkLedger(attempts, summary, {
        expected: (client) => (done.has(client.connId) ? undefined : null),
        unacked: (client) => !done.has(client.connId),
      });
      const retried = tries.filter((n) => n > 1).length;
      figure(
        `7/${transport}`,
        `${done.size}/${CLIENTS} served in full (${retried} after retries, at most ` +
          `${Math.max(...tries)} attempts, ${attempts.length} in all); server fds ${atStart} at ` +
          `start, peak ${peakFds} (limit ${DESCRIPTORS}); accepted ${summary.stats.accepted}, errors ` +
          `${JSON.stringify(summary.stats.errors)}; ledger ${ledger.problems.length === 0 ? 'ok' : 'BROKEN'}, ` +
          `${since(started)}`,
      );
      assert.ok(alive, 'the server survived');
      assert.equal(done.size, CLIENTS, 'every client served');
      assert.deepEqual(ledger.problems, []);
    } finally {
      fixture.kill();
    }
  });
}
