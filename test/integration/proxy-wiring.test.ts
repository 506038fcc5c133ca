/**
 * The PROXY protocol wired into servers, on loopback with hand-built headers: the client's
 * address from v1 and v2 headers (split byte by byte too), TLVs, LOCAL and UNKNOWN, every
 * refusal (untrusted, missing, invalid, too large, timeout, incomplete) with no byte reaching
 * the protocol, the optional mode, PROXY in front of TLS, and option checks.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import tls from 'node:tls';
import { createServer } from '../../src/create-server.js';
import { InvalidArgumentError, ProxyRejectedError } from '../../src/errors.js';
import { encodeProxyHeader } from '../../src/proxy/encode.js';
import type { ProxyProtocolOptions } from '../../src/proxy/server-options.js';
import { alpnTlv, authorityTlv, uniqueIdTlv } from '../../src/proxy/tlv-builders.js';
import type { ErrorContext, Server } from '../../src/server.js';
import type { TlsServerOptions } from '../../src/tls/options.js';
import { delay, RawClient, until } from '../helpers/net.js';
import { grammarViolations, RecordingProtocol } from '../helpers/recording-protocol.js';
import { makeTestPki, type TestPki } from '../helpers/tls-certs.js';
import { toolSkip } from '../helpers/tools.js';

const CLIENT = { family: 'IPv4', address: '203.0.113.7', port: 51000 } as const;
const FRONT = { family: 'IPv4', address: '192.0.2.10', port: 443 } as const;

const v1 = encodeProxyHeader({
  version: 1,
  command: 'proxy',
  transport: 'tcp',
  source: CLIENT,
  destination: FRONT,
});
const v2 = encodeProxyHeader(
  {
    version: 2,
    command: 'proxy',
    transport: 'tcp',
    source: { family: 'IPv6', address: '2001:db8::7', port: 40000 },
    destination: { family: 'IPv6', address: '2001:db8::1', port: 443 },
    tlvs: { raw: [alpnTlv('h2'), authorityTlv('example.com'), uniqueIdTlv(Buffer.from('id-1'))] },
  },
  { crc32c: true },
);
const local = encodeProxyHeader({
  version: 2,
  command: 'local',
  transport: 'unknown',
  source: undefined,
  destination: undefined,
});

/** A server behind which a recording protocol answers every read with "ok". */
async function proxyServer(proxy: Partial<ProxyProtocolOptions> = {}, extra: object = {}) {
  const protocols: RecordingProtocol[] = [];
  const errors: { error: Error; context: ErrorContext }[] = [];
  const server = await createServer(
    () => {
      const protocol = new RecordingProtocol({
        onData: (_data, transport) => transport.write(Buffer.from('ok')),
      });
      protocols.push(protocol);
      return protocol;
    },
    {
      host: '127.0.0.1',
      port: 0,
      proxyProtocol: { trusted: ['127.0.0.0/8'], ...proxy },
      onError: (error, context) => errors.push({ error, context }),
      ...extra,
    },
  );
  const address = server.addresses()[0];
  assert.ok(address !== undefined && address.family !== 'unix');
  return { server, protocols, errors, port: address.port };
}

async function stop(server: Server): Promise<void> {
  server.close();
  server.abortClients();
  await server.waitClosed();
}

/** Sends `bytes` (then FIN with `end`) and waits until the server closed the connection. */
function refused(port: number, bytes?: Uint8Array, end = false): Promise<void> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => {
      if (bytes !== undefined) socket.write(bytes);
      if (end) socket.end();
    });
    socket.on('error', () => {}); // the server may reset before the connect completes here
    socket.on('close', () => resolve());
  });
}

describe('PROXY protocol on a server', () => {
  it('v1: peername is the client from the header, proxyPeername the proxy', async () => {
    const { server, protocols, port, errors } = await proxyServer();
    const client = await RawClient.connect(port);
    client.socket.write(Buffer.concat([v1, Buffer.from('hello')]));
    await client.waitFor(2);
    const transport = protocols[0]!.transport!;
    assert.deepEqual(transport.getExtraInfo('peername'), CLIENT);
    assert.deepEqual(transport.getExtraInfo('proxyPeername'), {
      family: 'IPv4',
      address: '127.0.0.1',
      port: client.socket.localPort,
    });
    assert.deepEqual(transport.getExtraInfo('proxyHeader')?.destination, FRONT);
    assert.deepEqual(transport.getExtraInfo('proxyTlvs'), { raw: [] });
    assert.equal(protocols[0]!.received().toString(), 'hello');
    client.socket.end();
    await protocols[0]!.lost;
    assert.deepEqual(grammarViolations(protocols[0]!.events), []);
    assert.equal(server.stats.proxyAccepted, 1);
    assert.deepEqual(errors, []);
    await stop(server);
  });

  it('v2 split into single bytes: TLVs decoded, data after the header delivered whole', async () => {
    const { server, protocols, port } = await proxyServer();
    const client = await RawClient.connect(port);
    client.socket.setNoDelay(true);
    for (const byte of v2.subarray(0, -1)) {
      client.socket.write(Uint8Array.of(byte));
      await delay(1);
    }
    await delay(20);
    assert.equal(protocols[0]?.events.length ?? 0, 0, 'nothing before the header is complete');
    client.socket.write(Buffer.concat([v2.subarray(-1), Buffer.from('after')]));
    await client.waitFor(2);
    const transport = protocols[0]!.transport!;
    assert.deepEqual(transport.getExtraInfo('peername'), {
      family: 'IPv6',
      address: '2001:db8::7',
      port: 40000,
    });
    const tlvs = transport.getExtraInfo('proxyTlvs');
    assert.equal(tlvs?.alpn?.toString(), 'h2');
    assert.equal(tlvs?.authority, 'example.com');
    assert.equal(tlvs?.uniqueId?.toString(), 'id-1');
    assert.equal(typeof tlvs?.crc32c, 'number');
    assert.equal(protocols[0]!.received().toString(), 'after');
    client.socket.destroy();
    await stop(server);
  });

  it('a protocol that pauses in connectionMade gets the bytes after the header on resume', async () => {
    const protocols: RecordingProtocol[] = [];
    const server = await createServer(
      () => {
        const protocol = new RecordingProtocol({ onMade: (transport) => transport.pauseReading() });
        protocols.push(protocol);
        return protocol;
      },
      { host: '127.0.0.1', port: 0, proxyProtocol: { trusted: ['127.0.0.1'] } },
    );
    const address = server.addresses()[0];
    assert.ok(address !== undefined && address.family !== 'unix');
    const client = await RawClient.connect(address.port);
    client.socket.write(Buffer.concat([v1, Buffer.from('first')]));
    await until(() => protocols[0]?.events.length === 1);
    await delay(30);
    client.socket.write('second');
    await delay(30);
    assert.deepEqual(protocols[0]!.kinds(), ['made']);
    protocols[0]!.transport!.resumeReading();
    await until(() => protocols[0]!.received().toString() === 'firstsecond');
    client.socket.destroy();
    await stop(server);
  });

  it('LOCAL (a health check) and v1 UNKNOWN are accepted with the real addresses', async () => {
    const { server, protocols, port } = await proxyServer();
    const unknown = Buffer.from('PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n');
    for (const header of [local, unknown]) {
      const client = await RawClient.connect(port);
      client.socket.write(Buffer.concat([header, Buffer.from('ping')]));
      await client.waitFor(2);
      const transport = protocols.at(-1)!.transport!;
      assert.deepEqual(transport.getExtraInfo('peername'), {
        family: 'IPv4',
        address: '127.0.0.1',
        port: client.socket.localPort,
      });
      assert.equal(transport.getExtraInfo('proxyHeader')?.transport, 'unknown');
      client.socket.destroy();
    }
    assert.equal(protocols[0]!.transport!.getExtraInfo('proxyHeader')?.command, 'local');
    assert.equal(server.stats.proxyAccepted, 2);
    await stop(server);
  });

  it('refuses each bad case with a typed error, counted, reported once; the protocol never runs', async () => {
    const { server, protocols, port, errors } = await proxyServer({
      timeout: 300,
      maxV2Length: 64,
    });
    const tooLong = Buffer.from(v2);
    tooLong.writeUInt16BE(1000, 14);
    const cases: [string, Uint8Array | undefined, boolean][] = [
      ['missing', Buffer.from('GET / HTTP/1.1\r\n\r\n'), false],
      ['invalid', Buffer.from('PROXY TCP4 1.2.3.400 5.6.7.8 1 2\r\n'), false],
      ['too_large', tooLong, false],
      ['timeout', v1.subarray(0, 10), false],
      ['incomplete', v1.subarray(0, 10), true],
    ];
    for (const [reason, bytes, end] of cases) {
      await refused(port, bytes, end);
      await until(
        () => server.stats.proxyRejected[reason as 'missing'] === 1,
        2000,
        `rejected ${reason}`,
      );
    }
    await until(() => server.connectionCount() === 0);
    assert.equal(errors.length, cases.length);
    assert.deepEqual(
      errors.map(({ error }) => (error as ProxyRejectedError).reason),
      cases.map(([reason]) => reason),
    );
    assert.ok(errors.every(({ error }) => error instanceof ProxyRejectedError));
    assert.ok(protocols.every((p) => p.events.length === 0));
    assert.equal(server.stats.closed.protocol_error, cases.length);
    assert.equal(server.stats.proxyAccepted, 0);
    await stop(server);
  });

  it('refuses a header from an untrusted source (spoofing), required or not', async () => {
    for (const required of [true, false]) {
      const { server, protocols, port, errors } = await proxyServer({
        trusted: ['10.0.0.0/8'],
        required,
      });
      await refused(port, Buffer.concat([v1, Buffer.from('x')]));
      await until(() => server.stats.proxyRejected.untrusted === 1);
      assert.equal(errors.length, 1);
      assert.ok(protocols.every((p) => p.events.length === 0));
      await stop(server);
    }
  });

  it('required: false serves a trusted peer without a header, its first bytes intact', async () => {
    const { server, protocols, port } = await proxyServer({ required: false, timeout: 200 });
    const client = await RawClient.connect(port);
    client.socket.write('PRXY not a header');
    await client.waitFor(2);
    assert.equal(protocols[0]!.received().toString(), 'PRXY not a header');
    assert.equal(protocols[0]!.transport!.getExtraInfo('proxyHeader'), undefined);
    client.socket.destroy();
    // A client that waits for the server to speak first is served after the timeout.
    const quiet = await RawClient.connect(port);
    await until(() => protocols.length === 2 && protocols[1]!.events.length === 1, 2000);
    assert.deepEqual(protocols[1]!.kinds(), ['made']);
    quiet.socket.destroy();
    await stop(server);
  });

  it('checks options before listening; needs the net backend', async () => {
    const bad: unknown[] = [
      { trusted: [] },
      { trusted: ['10.1.2.3/8'] },
      { trusted: ['127.0.0.1'], timeout: 0 },
      { trusted: ['127.0.0.1'], maxV2Length: 3 },
      { trusted: ['127.0.0.1'], required: 'yes' },
    ];
    for (const proxyProtocol of bad) {
      await assert.rejects(
        createServer(() => new RecordingProtocol(), {
          port: 0,
          proxyProtocol: proxyProtocol as ProxyProtocolOptions,
        }),
        InvalidArgumentError,
        JSON.stringify(proxyProtocol),
      );
    }
    await assert.rejects(
      createServer(() => new RecordingProtocol(), {
        port: 0,
        transport: 'native',
        proxyProtocol: { trusted: ['127.0.0.1'] },
      }),
      /does not do the PROXY protocol/,
    );
  });
});

describe('PROXY protocol in front of TLS', { skip: toolSkip('openssl') }, () => {
  let pki: TestPki;
  before(() => {
    pki = makeTestPki();
  });
  after(() => pki.remove());

  it('reads the header in clear, then the TLS handshake; peername is the client', async () => {
    const tlsOptions: TlsServerOptions = { cert: pki.serverCert, key: pki.serverKey };
    const { server, protocols, port } = await proxyServer({}, { tls: tlsOptions });
    const raw = net.connect({ host: '127.0.0.1', port });
    await new Promise((resolve) => raw.once('connect', resolve));
    // The header and the ClientHello in one segment, as a proxy sends them.
    raw.cork();
    raw.write(v1);
    const secure = tls.connect({ socket: raw, ca: pki.caCert, servername: 'localhost' });
    raw.uncork();
    await new Promise((resolve) => secure.once('secureConnect', resolve));
    const reply = new Promise<string>((resolve) => secure.once('data', (d) => resolve(`${d}`)));
    secure.write('over TLS');
    assert.equal(await reply, 'ok');
    const transport = protocols[0]!.transport!;
    assert.deepEqual(transport.getExtraInfo('peername'), CLIENT);
    assert.equal(transport.getExtraInfo('tlsVersion'), 'TLSv1.3');
    secure.destroy();
    await stop(server);
  });
});
