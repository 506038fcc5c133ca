/**
 * TLS servers and clients on loopback: the exchange and the call grammar over TLS, the facts
 * `getExtraInfo` gives, ALPN, SNI, client certificates, the version floor, junk, the handshake
 * deadline, reloadTls, and the backend choice. The peer is Node's own `tls` unless the test is
 * about aionet's client.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import tls from 'node:tls';
import { createConnection } from '../../src/create-connection.js';
import { createServer } from '../../src/create-server.js';
import { InvalidArgumentError, TlsHandshakeError } from '../../src/errors.js';
import type { ErrorContext, Server } from '../../src/server.js';
import type { TlsServerOptions } from '../../src/tls/options.js';
import { delay, until } from '../helpers/net.js';
import { grammarViolations, RecordingProtocol } from '../helpers/recording-protocol.js';
import { makeTestPki, type TestPki } from '../helpers/tls-certs.js';
import { toolSkip } from '../helpers/tools.js';

const skip = toolSkip('openssl');
let pki: TestPki;
before(() => {
  if (skip === false) pki = makeTestPki();
});
after(() => pki?.remove());

const REPLY = Buffer.from('Message received');

/** A chapter server over TLS whose protocols record their calls. */
async function tlsServer(tlsOptions: Partial<TlsServerOptions> = {}, extra: object = {}) {
  const protocols: RecordingProtocol[] = [];
  const errors: { error: Error; context: ErrorContext }[] = [];
  const server = await createServer(
    () => {
      const protocol = new RecordingProtocol({
        onData: (_data, transport) => transport.write(REPLY),
      });
      protocols.push(protocol);
      return protocol;
    },
    {
      host: '127.0.0.1',
      port: 0,
      tls: { cert: pki.serverCert, key: pki.serverKey, ...tlsOptions },
      onError: (error, context) => errors.push({ error, context }),
      ...extra,
    },
  );
  const address = server.addresses()[0];
  assert.ok(address !== undefined && address.family !== 'unix');
  return { server, protocols, errors, port: address.port };
}

/** Connects with Node's tls client; resolves with the socket once secure, or the error. */
function nodeClient(
  port: number,
  options: tls.ConnectionOptions = {},
): Promise<{ socket: tls.TLSSocket; error?: Error }> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ca: pki.caCert, ...options });
    socket.once('secureConnect', () => resolve({ socket }));
    socket.once('error', (error) => resolve({ socket, error }));
  });
}

/** Sends `text` on a secure socket, resolves with the first reply. */
function ask(socket: tls.TLSSocket, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    socket.once('data', (data) => resolve(data.toString()));
    socket.once('error', reject);
    socket.write(text);
  });
}

async function stop(server: Server): Promise<void> {
  server.close();
  server.abortClients();
  await server.waitClosed();
}

describe('TLS servers', { skip }, () => {
  it('the chapter exchange over TLS keeps the grammar; connectionMade only after the handshake', async () => {
    const { server, protocols, port, errors } = await tlsServer();
    const { socket, error } = await nodeClient(port, { servername: 'localhost' });
    assert.equal(error, undefined);
    assert.equal(await ask(socket, 'hello'), 'Message received');
    const transport = protocols[0]!.transport!;
    assert.equal(transport.getExtraInfo('tlsVersion'), 'TLSv1.3');
    assert.equal(transport.getExtraInfo('servername'), 'localhost');
    assert.equal(transport.getExtraInfo('peerCertificate'), undefined);
    assert.match(transport.getExtraInfo('cipher')?.name ?? '', /^TLS_/);
    assert.equal(transport.getExtraInfo('peername')?.family, 'IPv4');
    socket.end();
    assert.equal(await protocols[0]!.lost, undefined);
    assert.deepEqual(protocols[0]!.kinds(), ['made', 'data', 'eof', 'lost']);
    assert.deepEqual(grammarViolations(protocols[0]!.events), []);
    assert.equal(server.stats.tlsHandshakes, 1);
    assert.deepEqual(errors, []);
    await stop(server);
  });

  it('aionet client to aionet server: TLS 1.2 when capped, ALPN, half-close', async () => {
    const { server, protocols, port } = await tlsServer({ ALPNProtocols: ['h2', 'aionet/1'] });
    const [client, clientProtocol] = await createConnection(() => new RecordingProtocol(), {
      host: '127.0.0.1',
      port,
      tls: { ca: pki.caCert, maxVersion: 'TLSv1.2', ALPNProtocols: ['aionet/1'] },
    });
    assert.equal(client.getExtraInfo('tlsVersion'), 'TLSv1.2');
    assert.equal(client.getExtraInfo('alpnProtocol'), 'aionet/1');
    assert.equal(client.getExtraInfo('peerCertificate')?.subject.CN, 'localhost');
    client.write(Buffer.from('x'));
    await until(() => clientProtocol.received().length === REPLY.length);
    assert.equal(protocols[0]!.transport!.getExtraInfo('alpnProtocol'), 'aionet/1');
    client.writeEof();
    assert.equal(await protocols[0]!.lost, undefined);
    assert.equal(await clientProtocol.lost, undefined);
    assert.deepEqual(grammarViolations(clientProtocol.events), []);
    await stop(server);
  });

  it('refuses TLS 1.0 and 1.1: counted as protocol_version, reported once, no protocol call', async () => {
    const { server, protocols, port, errors } = await tlsServer();
    for (const version of ['TLSv1', 'TLSv1.1'] as const) {
      const { error } = await nodeClient(port, {
        minVersion: version,
        maxVersion: version,
        ciphers: 'DEFAULT@SECLEVEL=0',
      });
      assert.ok(error !== undefined);
    }
    await until(() => server.stats.tlsHandshakeFailures.protocol_version === 2);
    await until(() => server.connectionCount() === 0);
    assert.equal(errors.length, 2);
    for (const { error, context } of errors) {
      assert.ok(error instanceof TlsHandshakeError);
      assert.equal(error.reason, 'protocol_version');
      assert.equal(context.transport?.getExtraInfo('peername')?.family, 'IPv4');
    }
    assert.ok(protocols.every((p) => p.events.length === 0));
    assert.equal(server.stats.closed.protocol_error, 2);
    await stop(server);
  });

  it('junk instead of a ClientHello: malformed; the server keeps serving', async () => {
    const { server, port, errors } = await tlsServer();
    const raw = net.connect({ host: '127.0.0.1', port });
    raw.on('error', () => {});
    raw.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await until(() => server.stats.tlsHandshakeFailures.malformed === 1);
    await until(() => raw.destroyed || raw.readableEnded);
    assert.equal(errors.length, 1);
    const { socket, error } = await nodeClient(port);
    assert.equal(error, undefined);
    assert.equal(await ask(socket, 'still there?'), 'Message received');
    socket.destroy();
    await stop(server);
  });

  it('closes a client that never finishes its handshake at the deadline', async () => {
    const { server, port, errors } = await tlsServer({ handshakeTimeout: 300 });
    const started = Date.now();
    const raw = net.connect({ host: '127.0.0.1', port });
    raw.on('error', () => {});
    const closed = new Promise((resolve) => raw.once('close', resolve));
    await closed;
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 280 && elapsed < 2000, `closed after ${elapsed} ms`);
    assert.equal(server.stats.tlsHandshakeFailures.timeout, 1);
    assert.ok(errors[0]?.error instanceof TlsHandshakeError);
    await stop(server);
  });

  it('requires a client certificate from the CA when asked', async () => {
    const { server, protocols, port } = await tlsServer({ ca: pki.caCert, requestCert: true });
    const good = await nodeClient(port, { cert: pki.clientCert, key: pki.clientKey });
    assert.equal(good.error, undefined);
    assert.equal(await ask(good.socket, 'hi'), 'Message received');
    const seen = protocols[0]!.transport!.getExtraInfo('peerCertificate');
    assert.equal(seen?.subject.CN, 'alice');
    good.socket.destroy();

    const none = await nodeClient(port);
    none.socket.on('error', () => {});
    none.socket.write('x');
    const stranger = await nodeClient(port, { cert: pki.strangerCert, key: pki.strangerKey });
    stranger.socket.on('error', () => {});
    stranger.socket.write('x');
    await until(() => server.stats.tlsHandshakeFailures.client_certificate === 2);
    assert.equal(protocols.filter((p) => p.events.length > 0).length, 1);
    none.socket.destroy();
    stranger.socket.destroy();
    await stop(server);
  });

  it('picks the certificate by SNI', async () => {
    const { server, port } = await tlsServer({
      sni: { 'other.test': { cert: pki.otherCert, key: pki.otherKey } },
    });
    const other = await nodeClient(port, { servername: 'other.test' });
    assert.equal(other.error, undefined);
    assert.equal(other.socket.getPeerCertificate().subject.CN, 'other.test');
    const plain = await nodeClient(port, { servername: 'localhost' });
    assert.equal(plain.socket.getPeerCertificate().subject.CN, 'localhost');
    other.socket.destroy();
    plain.socket.destroy();
    await stop(server);
  });

  it('reloadTls: new handshakes get the new certificate, live connections stay up', async () => {
    const { server, port } = await tlsServer();
    const before = await nodeClient(port, { servername: 'localhost' });
    assert.equal(before.socket.getPeerCertificate().subject.CN, 'localhost');
    assert.throws(
      () => server.reloadTls({ cert: pki.otherCert, key: pki.serverKey }),
      InvalidArgumentError,
    );
    server.reloadTls({ cert: pki.otherCert, key: pki.otherKey });
    const afterReload = await nodeClient(port, { servername: 'other.test' });
    assert.equal(afterReload.error, undefined);
    assert.equal(afterReload.socket.getPeerCertificate().subject.CN, 'other.test');
    assert.equal(await ask(before.socket, 'old one'), 'Message received');
    before.socket.destroy();
    afterReload.socket.destroy();
    await stop(server);
  });

  it('closeClients during a handshake closes it without counting a failure', async () => {
    const { server, port, errors } = await tlsServer();
    const raw = net.connect({ host: '127.0.0.1', port });
    raw.on('error', () => {});
    await until(() => server.connectionCount() === 1);
    server.close();
    server.closeClients();
    await server.waitClosed();
    await delay(20);
    assert.deepEqual(errors, []);
    assert.equal(server.stats.tlsHandshakeFailures.disconnected, 0);
    raw.destroy();
  });

  it('shutdown() does not ask a protocol that has not started', async () => {
    const { server, port, protocols } = await tlsServer();
    const raw = net.connect({ host: '127.0.0.1', port });
    raw.on('error', () => {});
    await until(() => server.connectionCount() === 1);
    await server.shutdown({ drainTimeout: 500 });
    assert.ok(protocols.every((p) => p.events.length === 0));
    raw.destroy();
  });
});

describe('TLS clients', { skip }, () => {
  it('refuses a server whose certificate does not verify; tls.rejectUnauthorized: false allows it', async () => {
    const { server, port } = await tlsServer();
    await assert.rejects(
      createConnection(() => new RecordingProtocol(), { host: '127.0.0.1', port, tls: true }),
      (error: unknown) =>
        error instanceof TlsHandshakeError && error.reason === 'server_certificate',
    );
    const [transport] = await createConnection(() => new RecordingProtocol(), {
      host: '127.0.0.1',
      port,
      tls: { rejectUnauthorized: false },
    });
    assert.equal(transport.getExtraInfo('tlsVersion'), 'TLSv1.3');
    transport.abort();
    await stop(server);
  });

  it('a client handshake has a deadline too', async () => {
    const silent = net.createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as net.AddressInfo;
    await assert.rejects(
      createConnection(() => new RecordingProtocol(), {
        host: '127.0.0.1',
        port,
        tls: { ca: pki.caCert, handshakeTimeout: 200 },
      }),
      (error: unknown) => error instanceof TlsHandshakeError && error.reason === 'timeout',
    );
    silent.close();
  });
});

describe('TLS options', { skip }, () => {
  it('checks options before listening', async () => {
    const bad: Partial<TlsServerOptions>[] = [
      { minVersion: 'TLSv1.1' as 'TLSv1.2' },
      { minVersion: 'TLSv1.3', maxVersion: 'TLSv1.2' },
      { key: 'not a key' },
      { handshakeTimeout: -1 },
      { ALPNProtocols: [] },
    ];
    for (const options of bad) {
      await assert.rejects(
        createServer(() => new RecordingProtocol(), {
          port: 0,
          tls: { cert: pki.serverCert, key: pki.serverKey, ...options },
        }),
        InvalidArgumentError,
        JSON.stringify(options),
      );
    }
  });

  it("needs the net backend: 'auto' picks it, 'native' is an error", async () => {
    await assert.rejects(
      createServer(() => new RecordingProtocol(), {
        transport: 'native',
        port: 0,
        tls: { cert: pki.serverCert, key: pki.serverKey },
      }),
      /does not do TLS/,
    );
    const { server } = await tlsServer({}, { transport: 'auto' });
    await stop(server);
  });

  it('reloadTls on a plain server is misuse', async () => {
    const server = await createServer(() => new RecordingProtocol(), {
      host: '127.0.0.1',
      port: 0,
    });
    assert.throws(
      () => server.reloadTls({ cert: pki.serverCert, key: pki.serverKey }),
      InvalidArgumentError,
    );
    await stop(server);
  });
});
