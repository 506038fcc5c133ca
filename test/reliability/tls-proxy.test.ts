/**
 * Reliability of the pre-protocol stages under abuse, in process and on loopback, sequential and
 * bounded (a few seconds in all):
 * - TLS clients that never finish their handshake are closed at the deadline, while real clients
 *   keep being served;
 * - 1,000 junk TLS handshakes: every one counted and closed, the server healthy after;
 * - PROXY protocol spoofing from an untrusted source: 0 accepted, whatever the header says.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import tls from 'node:tls';
import { createServer } from '../../src/create-server.js';
import { Protocol } from '../../src/protocol.js';
import { encodeProxyHeader } from '../../src/proxy/encode.js';
import type { Server } from '../../src/server.js';
import type { Transport } from '../../src/transport.js';
import { until } from '../helpers/net.js';
import { makeTestPki, type TestPki } from '../helpers/tls-certs.js';
import { toolSkip } from '../helpers/tools.js';

const skip = toolSkip('openssl');
let pki: TestPki;
before(() => {
  if (skip === false) pki = makeTestPki();
});
after(() => pki?.remove());

/** Counts the protocols that started; answers every read. */
class Counted extends Protocol {
  static made = 0;
  #transport!: Transport;
  override connectionMade(transport: Transport): void {
    Counted.made++;
    this.#transport = transport;
  }
  override dataReceived(): void {
    this.#transport.write(Buffer.from('Message received'));
  }
}

function portOf(server: Server): number {
  const address = server.addresses()[0];
  assert.ok(address !== undefined && address.family !== 'unix');
  return address.port;
}

async function stop(server: Server): Promise<void> {
  server.close();
  server.abortClients();
  await server.waitClosed();
}

/** A real TLS client's round trip; resolves with its latency in ms. */
function legit(port: number): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const socket = tls.connect(
      { host: '127.0.0.1', port, ca: pki.caCert, servername: 'localhost' },
      () => socket.write('x'),
    );
    socket.once('data', () => {
      socket.end();
      resolve(performance.now() - started);
    });
    socket.once('error', reject);
  });
}

/** Opens `count` raw connections, `width` at a time, each running `act`; waits for all to close. */
async function waves(
  port: number,
  count: number,
  width: number,
  act: (socket: net.Socket, index: number) => void,
): Promise<void> {
  let next = 0;
  const one = (): Promise<void> =>
    new Promise((resolve) => {
      const index = next++;
      const socket = net.connect({ host: '127.0.0.1', port }, () => act(socket, index));
      socket.on('error', () => {});
      socket.on('data', () => {});
      socket.on('close', () => resolve());
    });
  const lanes = Array.from({ length: width }, async () => {
    while (next < count) await one();
  });
  await Promise.all(lanes);
}

describe('TLS under abuse', { skip }, () => {
  it('clients that never finish their handshake are closed at the deadline; others are served', async () => {
    const DEADLINE_MS = 500;
    const server = await createServer(() => new Counted(), {
      host: '127.0.0.1',
      port: 0,
      tls: { cert: pki.serverCert, key: pki.serverKey, handshakeTimeout: DEADLINE_MS },
      onError: () => {},
    });
    const port = portOf(server);
    const stalled: Promise<number>[] = [];
    for (let i = 0; i < 100; i++) {
      stalled.push(
        new Promise((resolve) => {
          const started = performance.now();
          const socket = net.connect({ host: '127.0.0.1', port }, () =>
            // The start of a TLS record, never its end.
            socket.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01])),
          );
          socket.on('error', () => {});
          socket.on('close', () => resolve(performance.now() - started));
        }),
      );
    }
    const latencies: number[] = [];
    for (let i = 0; i < 20; i++) latencies.push(await legit(port));
    const closedAfter = await Promise.all(stalled);
    for (const elapsed of closedAfter) {
      assert.ok(elapsed >= DEADLINE_MS - 20 && elapsed < DEADLINE_MS + 1500, `${elapsed} ms`);
    }
    assert.equal(server.stats.tlsHandshakeFailures.timeout, 100);
    assert.ok(Math.max(...latencies) < 1000, `legit max ${Math.max(...latencies)} ms`);
    await until(() => server.connectionCount() === 0);
    await stop(server);
  });

  it('1,000 junk handshakes: each counted and closed, the server healthy after', async () => {
    const server = await createServer(() => new Counted(), {
      host: '127.0.0.1',
      port: 0,
      tls: { cert: pki.serverCert, key: pki.serverKey, handshakeTimeout: 2000 },
      onError: () => {},
    });
    const port = portOf(server);
    const madeBefore = Counted.made;
    const junk = [
      Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'),
      Buffer.from([0x16, 0x03, 0x01, 0x00, 0x05, 0x01, 0x00, 0x00, 0x01, 0x00]),
      Buffer.from([0x16, 0x03, 0x03, 0xff, 0xff, 0xde, 0xad]),
      Buffer.from([0x80, 0x2e, 0x01, 0x00, 0x02]),
    ];
    await waves(port, 1000, 50, (socket, index) => {
      const bytes = junk[index % junk.length]!;
      socket.write(index % 8 === 7 ? Buffer.concat([bytes, Buffer.alloc(600, index)]) : bytes);
      socket.end();
    });
    await until(() => server.connectionCount() === 0, 5000);
    const failures = Object.values(server.stats.tlsHandshakeFailures).reduce((a, b) => a + b, 0);
    assert.equal(failures, 1000);
    assert.equal(Counted.made, madeBefore, 'no protocol started');
    assert.equal(server.stats.closed.protocol_error, 1000);
    for (let i = 0; i < 5; i++) assert.ok((await legit(port)) < 1000);
    await stop(server);
  });
});

describe('PROXY protocol spoofing', () => {
  it('0 of 1,000 forged headers from an untrusted source are accepted', async () => {
    for (const required of [true, false]) {
      const server = await createServer(() => new Counted(), {
        host: '127.0.0.1',
        port: 0,
        // Loopback is not a trusted proxy here: every header it sends is a spoofing attempt.
        proxyProtocol: { trusted: ['10.0.0.0/8', 'fd00::/8'], required },
        onError: () => {},
      });
      const port = portOf(server);
      const madeBefore = Counted.made;
      await waves(port, 500, 50, (socket, index) => {
        const source = { family: 'IPv4', address: `10.0.${index % 256}.1`, port: 1000 + index };
        const destination = { family: 'IPv4', address: '10.9.9.9', port: 443 } as const;
        const header = encodeProxyHeader({
          version: index % 2 === 0 ? 1 : 2,
          command: 'proxy',
          transport: 'tcp',
          source: source as { family: 'IPv4'; address: string; port: number },
          destination,
        });
        socket.write(Buffer.concat([header, Buffer.from('GET /admin\r\n')]));
      });
      await until(() => server.connectionCount() === 0, 5000);
      assert.equal(server.stats.proxyAccepted, 0);
      assert.equal(server.stats.proxyRejected.untrusted, 500);
      assert.equal(Counted.made, madeBefore, 'no protocol saw a spoofed connection');
      await stop(server);
    }
  });
});
