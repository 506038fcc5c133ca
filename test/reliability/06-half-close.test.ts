/**
 * Scenario 6: half-close. Clients send 1,000 messages and their FIN in one go, and keep reading:
 * every ack must arrive before the server's FIN, none lost, no reset — with a handler that
 * answers at once and with one that takes a millisecond or two per message (so the FIN arrives
 * while most messages are still waiting to be handled).
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { checkLedger, figure, since } from './checks.js';
import { Fixture, transports } from './fixture-process.js';
import { connectMany, SOURCE_ADDRESSES } from './ledger-client.js';

const CLIENTS = 10;
const MESSAGES = 1000;
const HANDLERS = [
  { name: 'sync', delayMs: [0, 0] as const },
  { name: 'async 0-2 ms', delayMs: [0, 2] as const },
];

for (const transport of transports()) {
  for (const handler of HANDLERS) {
    it(`[6/${transport}] ${CLIENTS} clients send ${MESSAGES} messages then FIN (${handler.name})`, {
      timeout: 60_000,
    }, async () => {
      const fixture = await Fixture.start({ transport, framing: 'line', delayMs: handler.delayMs });
      try {
        const started = performance.now();
        const clients = await connectMany(CLIENTS, CLIENTS, (i) => ({
          port: fixture.port,
          connId: `f${i}`,
          framing: 'line',
          halfOpen: true,
          localAddress: SOURCE_ADDRESSES[i % SOURCE_ADDRESSES.length]!,
        }));
        for (const client of clients) {
          client.sendBatch(MESSAGES);
          client.socket.end();
        }
        await Promise.all(clients.map((client) => client.closed));
        const result = await fixture.stop();
        assert.equal(
          result.code,
          0,
          `fixture exit ${result.code} ${result.signal}: ${result.stderr}`,
        );
        const summary = result.summary!;
        const ledger = checkLedger(clients, summary);
        const beforeFin = clients.filter((c) => c.finAt !== undefined && c.acksAtFin === MESSAGES);
        const errors = clients.filter((c) => c.errorCode !== undefined).map((c) => c.errorCode);
        figure(
          `6/${transport}`,
          `${handler.name}: ${beforeFin.length}/${CLIENTS} clients got all ${MESSAGES} acks before ` +
            `the server's FIN, errors [${errors.join(',')}], connectionLost ` +
            `${JSON.stringify(summary.lost)}, ledger ${ledger.problems.length === 0 ? 'ok' : 'BROKEN'}, ` +
            `${since(started)}`,
        );
        assert.equal(beforeFin.length, CLIENTS, 'every ack before the FIN');
        assert.deepEqual(errors, [], 'no reset');
        assert.deepEqual(summary.lost, { none: CLIENTS }, 'clean ends on the server');
        assert.deepEqual(ledger.problems, []);
      } finally {
        fixture.kill();
      }
    });
  }
}
