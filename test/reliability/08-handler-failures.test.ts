/**
 * Scenario 8: handler failures. The fixture's handler throws on 1% of messages and returns a
 * rejected promise on another 1% (a seeded fate both sides compute). A failure fails its own
 * connection (reset, `connectionLost(ProtocolCallbackError)`), so each client sends up to and
 * including its next doomed message, then carries on with a new connection. The doomed
 * messages must get no ack and not be in the server's ledger; every other message must be
 * handled and acked exactly once; every failure must be counted, typed.
 *
 * Two ways to send: `waiting`, where a client sends its doomed message only once the ones
 * before it are acked, and `pipelined`, all at once. Pipelined, the reset that follows a
 * failure discards acks of earlier messages the kernel had not sent yet (an RST drops the send
 * queue): those are counted and printed, and allowed only on the failing connection.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { checkLedger, figure, since } from './checks.js';
import { Fixture, transports } from './fixture-process.js';
import { type FateRates, fate } from './ledger.js';
import { forEachLimited, LedgerClient, SOURCE_ADDRESSES } from './ledger-client.js';

const CLIENTS = 100;
const MESSAGES = 100;
const SEED = 8;
const RATES: FateRates = { throw: 0.01, reject: 0.01 };
const MODES = [
  { name: 'sync, waiting', delayMs: [0, 0] as const, pipelined: false },
  { name: 'sync, pipelined', delayMs: [0, 0] as const, pipelined: true },
  { name: 'async 0-1 ms, pipelined', delayMs: [0, 1] as const, pipelined: true },
];

/** What one client saw. */
interface Outcome {
  readonly connections: LedgerClient[];
  /** connId → the doomed seq that ended that connection. */
  readonly doomed: Map<string, number>;
  /** Doomed connections that ended cleanly, or whose acks did not stop at the doomed one. */
  readonly wrong: string[];
}

/** Sends MESSAGES messages over as many connections as failures take. */
async function client(port: number, i: number, pipelined: boolean): Promise<Outcome> {
  const outcome: Outcome = { connections: [], doomed: new Map(), wrong: [] };
  let left = MESSAGES;
  for (let k = 0; left > 0 && k <= MESSAGES; k++) {
    const connId = `p${i}.${k}`;
    let last = 0;
    while (last < left - 1 && fate(SEED, connId, last, RATES) === 'ok') last++;
    const doomed = fate(SEED, connId, last, RATES) !== 'ok';
    const connection = await LedgerClient.connect({
      port,
      connId,
      framing: 'line',
      localAddress: SOURCE_ADDRESSES[i % SOURCE_ADDRESSES.length]!,
    });
    outcome.connections.push(connection);
    if (doomed) {
      outcome.doomed.set(connId, last);
      if (pipelined) {
        connection.sendBatch(last + 1);
      } else {
        connection.sendBatch(last);
        await connection.waitAcks(last, 10_000);
        connection.send();
      }
      await connection.closed;
      const acks = connection.acks.length;
      if (acks > last || (!pipelined && acks < last)) {
        outcome.wrong.push(`${connId}: ${acks} acks, ${last} before the doomed one`);
      }
    } else {
      connection.sendBatch(last + 1);
      await connection.waitAcks(last + 1, 10_000);
      connection.socket.end();
      await connection.closed;
    }
    left -= last + 1;
  }
  return outcome;
}

for (const transport of transports()) {
  for (const mode of MODES) {
    it(`[8/${transport}] 1% of messages throw, 1% reject (${mode.name})`, {
      timeout: 60_000,
    }, async () => {
      const fixture = await Fixture.start({
        transport,
        framing: 'line',
        seed: SEED,
        rates: RATES,
        delayMs: mode.delayMs,
      });
      try {
        const started = performance.now();
        const outcomes: Outcome[] = new Array(CLIENTS);
        await forEachLimited(
          Array.from({ length: CLIENTS }, (_, i) => i),
          CLIENTS,
          async (i) => {
            outcomes[i] = await client(fixture.port, i, mode.pipelined);
          },
        );
        const result = await fixture.stop();
        assert.equal(
          result.code,
          0,
          `fixture exit ${result.code} ${result.signal}: ${result.stderr}`,
        );
        const summary = result.summary!;
        const connections = outcomes.flatMap((o) => o.connections);
        const doomed = new Map(outcomes.flatMap((o) => [...o.doomed]));
        const wrong = outcomes.flatMap((o) => o.wrong);
        const failures = { throw: 0, reject: 0 };
        for (const [connId, seq] of doomed)
          failures[fate(SEED, connId, seq, RATES) as 'throw' | 'reject']++;
        const ledger = checkLedger(connections, summary, {
          expected: (c) => {
            const at = doomed.get(c.connId);
            return Array.from({ length: at ?? c.sent }, (_, seq) => seq);
          },
          unacked: (c) => mode.pipelined && doomed.has(c.connId),
        });
        const sent = connections.reduce((n, c) => n + c.sent, 0);
        figure(
          `8/${transport}`,
          `${mode.name}: ${sent} messages on ${connections.length} connections, ` +
            `${failures.throw} threw + ${failures.reject} rejected: no ack for them ` +
            `(${wrong.length} wrong), ${ledger.acked} acks for the other ${sent - doomed.size} ` +
            `(${ledger.handledNotAcked} lost to the resets); ` +
            `onError heard ${summary.reported.ERR_AIONET_CALLBACK_FAILED ?? 0}, ` +
            `closed.callback_error ${summary.stats.closed.callback_error}; ledger ` +
            `${ledger.problems.length === 0 ? 'ok' : 'BROKEN'}, ${since(started)}`,
        );
        assert.ok(doomed.size > 0, 'some messages failed');
        assert.deepEqual(wrong, []);
        assert.equal(
          ledger.acked + ledger.handledNotAcked,
          sent - doomed.size,
          'every other message handled, and acked unless its connection failed',
        );
        assert.deepEqual(ledger.problems, []);
        assert.deepEqual(summary.reported, { ERR_AIONET_CALLBACK_FAILED: doomed.size });
        assert.equal(summary.stats.closed.callback_error, doomed.size);
        assert.equal(summary.lost.ERR_AIONET_CALLBACK_FAILED, doomed.size);
      } finally {
        fixture.kill();
      }
    });
  }
}
