/**
 * Scenario 1: 10,000 connections from 127.0.0.1–4, 10 messages each (request/response): all
 * connect, 100,000 acks arrive, and the ledger holds.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { checkLedger, figure, mib, ms, percentile, since } from './checks.js';
import { Fixture, transports } from './fixture-process.js';
import { connectMany, SOURCE_ADDRESSES } from './ledger-client.js';

const CONNECTIONS = 10_000;
const MESSAGES = 10;
/** Connects in flight at once: enough to be quick, few enough not to overflow the backlog. */
const CONNECT_CONCURRENCY = 256;

for (const transport of transports()) {
  it(`[1/${transport}] ${CONNECTIONS} connections, ${MESSAGES} messages each`, {
    timeout: 120_000,
  }, async () => {
    const fixture = await Fixture.start({ transport, framing: 'line', backlog: 4096 });
    try {
      const started = performance.now();
      const clients = await connectMany(CONNECTIONS, CONNECT_CONCURRENCY, (i) => ({
        port: fixture.port,
        connId: `c${i}`,
        framing: 'line',
        localAddress: SOURCE_ADDRESSES[i % SOURCE_ADDRESSES.length]!,
        connectTimeout: 30_000,
      }));
      const connected = since(started);
      const rss = fixture.rss();
      await Promise.all(clients.map((client) => client.pingPong(MESSAGES, 60_000)));
      const acks = clients.reduce((total, client) => total + client.acks.length, 0);
      const latencies = clients.flatMap((client) => client.latencies);
      // The server closes first (shutdown: FIN): TIME_WAIT stays on its port, not on the
      // clients' source ports, which the next scenarios bind again.
      const result = await fixture.stop();
      await Promise.all(clients.map((client) => client.closed));
      assert.equal(
        result.code,
        0,
        `fixture exit ${result.code} ${result.signal}: ${result.stderr}`,
      );
      const summary = result.summary!;
      const ledger = checkLedger(clients, summary);
      figure(
        `1/${transport}`,
        `${clients.length} conns (connected in ${connected}, server RSS ${mib(rss)}), ` +
          `${acks} acks, p99 ${ms(percentile(latencies, 99))}, ` +
          `ledger ${ledger.problems.length === 0 ? 'ok' : 'BROKEN'}, ${since(started)}`,
      );
      assert.equal(summary.stats.accepted, CONNECTIONS);
      assert.equal(acks, CONNECTIONS * MESSAGES);
      assert.deepEqual(ledger.problems, []);
      assert.equal(summary.lostTwice, 0);
    } finally {
      fixture.kill();
    }
  });
}
