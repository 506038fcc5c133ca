/**
 * Scenario 5: resets in the middle of writes. 50 clients ask for 8 MiB of acks each; half
 * reset (RST) after reading a little of them, while the server's write buffer is full, the
 * other half reset half-way through writing a message of their own. Every server connection
 * must reach `connectionLost` exactly once, with a typed fault, nothing may be uncaught, and
 * the server's open descriptors must return to their baseline.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { checkLedger, delay, figure, since, waitUntil } from './checks.js';
import { Fixture, transports } from './fixture-process.js';
import { connectMany, SOURCE_ADDRESSES } from './ledger-client.js';

const CLIENTS = 50;
/** Each client asks for REQUESTS acks of FILL bytes: 8 MiB, more than the kernel buffers. */
const REQUESTS = 64;
const FILL = 128 * 1024;
/** A reader resets once it has read this much, ms: the server is mid-write by then. */
const READ_BEFORE_RESET = 256 * 1024;
const FDS_SETTLE_MS = 5000;
/** How a reset connection may end (see the comment at the check). */
const RESET_ENDS = ['ERR_AIONET_CONNECTION_RESET', 'ERR_AIONET_INCOMPLETE_READ'];

for (const transport of transports()) {
  it(`[5/${transport}] ${CLIENTS} clients reset in the middle of writes`, {
    timeout: 60_000,
  }, async () => {
    const fixture = await Fixture.start({ transport, framing: 'line', maxFrame: 2 * FILL });
    try {
      const started = performance.now();
      await delay(200); // let the process finish starting before taking its baseline
      const baseline = fixture.fds();
      const clients = await connectMany(CLIENTS, CLIENTS, (i) => ({
        port: fixture.port,
        connId: `r${i}`,
        framing: 'line',
        localAddress: SOURCE_ADDRESSES[i % SOURCE_ADDRESSES.length]!,
      }));
      await waitUntil(() => fixture.fds() >= baseline + CLIENTS, 2000);
      const during = fixture.fds();
      await Promise.all(
        clients.map(async (client, i) => {
          client.sendBatch(REQUESTS, FILL);
          if (i % 2 === 0) {
            await waitUntil(() => client.bytes >= READ_BEFORE_RESET, 10_000);
          } else {
            // Mid-message: the first half of a line, then the reset.
            await waitUntil(() => client.bytes > 0, 10_000);
            client.socket.write(`${client.connId} ${client.sent}`);
          }
          client.socket.resetAndDestroy();
          await client.closed;
        }),
      );
      const settled = await waitUntil(() => fixture.fds() <= baseline, FDS_SETTLE_MS);
      const after = fixture.fds();
      const result = await fixture.stop();
      assert.equal(
        result.code,
        0,
        `fixture exit ${result.code} ${result.signal}: ${result.stderr}`,
      );
      const summary = result.summary!;
      const ledger = checkLedger(clients, summary, { expected: () => null, unacked: () => true });
      figure(
        `5/${transport}`,
        `${summary.made} connections, connectionLost ${JSON.stringify(summary.lost)}, ` +
          `${summary.lostTwice} twice, ${summary.stillOpen} never; server fds ${baseline} → ` +
          `${during} → ${after}; reported ${JSON.stringify(summary.reported)}; ledger ` +
          `${ledger.problems.length === 0 ? 'ok' : 'BROKEN'} (${ledger.handled} handled, ` +
          `${ledger.acked} acks read), ${since(started)}`,
      );
      assert.equal(summary.made, CLIENTS);
      // Resets are ConnectionResetError, except on net where libuv may report a reset that
      // follows data in the same wake-up as an EOF (its POLLHUP short-cut): a half-sent
      // message then ends as IncompleteReadError. Either way a typed fault, never a clean end.
      for (const code of Object.keys(summary.lost)) {
        assert.ok(RESET_ENDS.includes(code), `connectionLost got ${code}`);
      }
      assert.ok((summary.lost.ERR_AIONET_CONNECTION_RESET ?? 0) >= CLIENTS / 2);
      assert.equal(summary.lostTwice, 0, 'connectionLost ran twice');
      assert.equal(summary.stillOpen, 0, 'connectionLost never ran');
      assert.ok(settled, `server fds ${after}, baseline ${baseline}`);
      assert.equal(result.stderr, '', 'nothing on stderr (no uncaught error)');
      assert.deepEqual(ledger.problems, []);
    } finally {
      fixture.kill();
    }
  });
}
