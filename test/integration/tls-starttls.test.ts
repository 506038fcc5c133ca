/**
 * `startTls`: a STARTTLS-style line protocol upgraded in place, on both ends; with Node's own
 * TLS client as the peer; writes made during the handshake; a paused protocol staying paused;
 * a failed handshake; misuse.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import tls from 'node:tls';
import { createConnection } from '../../src/create-connection.js';
import { createServer } from '../../src/create-server.js';
import { InvalidArgumentError, TlsHandshakeError } from '../../src/errors.js';
import { canStartTls } from '../../src/net/socket-transport.js';
import { Protocol } from '../../src/protocol.js';
import type { Server } from '../../src/server.js';
import { connectPair } from '../../src/testing/memory-pair.js';
import type { Transport } from '../../src/transport.js';
import { until } from '../helpers/net.js';
import { grammarViolations, RecordingProtocol } from '../helpers/recording-protocol.js';
import { makeTestPki, type TestPki } from '../helpers/tls-certs.js';
import { toolSkip } from '../helpers/tools.js';

const skip = toolSkip('openssl');
let pki: TestPki;
before(() => {
  if (skip === false) pki = makeTestPki();
});
after(() => pki?.remove());

/**
 * The server side: greets, answers `STARTTLS` with `220 go ahead` and upgrades (dropping any
 * bytes that came in the same read after the command: they were sent in clear), then echoes
 * each read as `echo: …`.
 */
class StartTlsServer extends Protocol {
  transport!: Transport;
  secure = false;
  dropped = 0;
  upgrade: Promise<void> | undefined;
  lostWith: Error | undefined | null = null;
  constructor(readonly pauseDuringUpgrade = false) {
    super();
  }
  override connectionMade(transport: Transport): void {
    this.transport = transport;
    transport.write('220 ready\n', 'utf8');
  }
  override dataReceived(data: Buffer): void {
    if (this.secure) {
      this.transport.write(`echo: ${data}`, 'utf8');
      return;
    }
    const text = data.toString();
    const end = text.indexOf('STARTTLS\n');
    if (end < 0) return;
    this.dropped = data.length - (end + 'STARTTLS\n'.length);
    this.transport.write('220 go ahead\n', 'utf8');
    assert.ok(canStartTls(this.transport));
    if (this.pauseDuringUpgrade) this.transport.pauseReading();
    this.upgrade = this.transport
      .startTls({ isServer: true, cert: pki.serverCert, key: pki.serverKey })
      .then(() => {
        this.secure = true;
      });
    this.upgrade.catch(() => {});
  }
  override connectionLost(error?: Error): void {
    this.lostWith = error;
  }
}

async function startTlsServer(pauseDuringUpgrade = false) {
  const protocols: StartTlsServer[] = [];
  const server = await createServer(
    () => {
      const protocol = new StartTlsServer(pauseDuringUpgrade);
      protocols.push(protocol);
      return protocol;
    },
    { host: '127.0.0.1', port: 0, transport: 'net', onError: () => {} },
  );
  const address = server.addresses()[0];
  assert.ok(address !== undefined && address.family !== 'unix');
  return { server, protocols, port: address.port };
}

async function stop(server: Server): Promise<void> {
  server.close();
  server.abortClients();
  await server.waitClosed();
}

describe('startTls', { skip }, () => {
  it('upgrades both ends in place; writes during the handshake leave encrypted', async () => {
    const { server, protocols, port } = await startTlsServer();
    let upgraded: Promise<void> | undefined;
    const [client, clientProtocol] = await createConnection(
      () =>
        new RecordingProtocol({
          onData: (data, transport) => {
            if (data.toString().includes('220 ready')) transport.write('STARTTLS\n', 'utf8');
            if (data.toString().includes('220 go ahead') && upgraded === undefined) {
              assert.ok(canStartTls(transport));
              upgraded = transport.startTls({ ca: pki.caCert, servername: 'localhost' });
              transport.write('sent during the handshake', 'utf8');
            }
          },
        }),
      { host: '127.0.0.1', port, transport: 'net' },
    );
    await until(() => upgraded !== undefined);
    await upgraded;
    await until(() => clientProtocol.received().toString().includes('echo: sent during'));
    assert.equal(client.getExtraInfo('tlsVersion'), 'TLSv1.3');
    assert.equal(client.getExtraInfo('peerCertificate')?.subject.CN, 'localhost');
    const serverSide = protocols[0]!;
    assert.equal(serverSide.transport.getExtraInfo('tlsVersion'), 'TLSv1.3');
    assert.equal(serverSide.dropped, 0);
    client.write('again', 'utf8');
    await until(() => clientProtocol.received().toString().endsWith('echo: again'));
    assert.ok(canStartTls(client));
    assert.throws(() => client.startTls({}), InvalidArgumentError);
    client.close();
    await clientProtocol.lost;
    assert.deepEqual(grammarViolations(clientProtocol.events), []);
    await stop(server);
  });

  it("with Node's TLS client as the peer; bytes pipelined after STARTTLS are the protocol's", async () => {
    const { server, protocols, port } = await startTlsServer();
    const raw = net.connect({ host: '127.0.0.1', port });
    let text = '';
    await new Promise<void>((resolve) => {
      raw.on('data', function onData(data) {
        text += data.toString();
        if (text.includes('220 ready') && !text.includes('sent')) {
          text += 'sent';
          raw.write('STARTTLS\nINJECTED COMMAND\n');
        }
        if (text.includes('220 go ahead')) {
          raw.removeListener('data', onData);
          resolve();
        }
      });
    });
    const secure = tls.connect({ socket: raw, ca: pki.caCert, servername: 'localhost' });
    await new Promise((resolve) => secure.once('secureConnect', resolve));
    const reply = new Promise<string>((resolve) => secure.once('data', (d) => resolve(`${d}`)));
    secure.write('over TLS');
    assert.equal(await reply, 'echo: over TLS');
    assert.equal(protocols[0]!.dropped, 'INJECTED COMMAND\n'.length);
    secure.destroy();
    await stop(server);
  });

  it('a protocol that paused reading stays paused after the upgrade', async () => {
    const { server, protocols, port } = await startTlsServer(true);
    const raw = net.connect({ host: '127.0.0.1', port });
    let text = '';
    await new Promise<void>((resolve) => {
      raw.on('data', function onData(data) {
        text += data.toString();
        if (text === '220 ready\n') raw.write('STARTTLS\n');
        if (text.endsWith('220 go ahead\n')) {
          raw.removeListener('data', onData);
          resolve();
        }
      });
    });
    const secure = tls.connect({ socket: raw, ca: pki.caCert, servername: 'localhost' });
    await new Promise((resolve) => secure.once('secureConnect', resolve));
    let replies = '';
    secure.on('data', (d) => {
      replies += d.toString();
    });
    secure.write('held');
    await protocols[0]!.upgrade;
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(replies, '');
    protocols[0]!.transport.resumeReading();
    await until(() => replies === 'echo: held');
    secure.destroy();
    await stop(server);
  });

  it('a failed upgrade rejects and reaches connectionLost with the same error', async () => {
    const { server, protocols, port } = await startTlsServer();
    const raw = net.connect({ host: '127.0.0.1', port });
    raw.on('error', () => {});
    raw.once('data', () => raw.write('STARTTLS\n'));
    await until(() => protocols[0]?.upgrade !== undefined);
    raw.write('this is not a ClientHello\r\n\r\n');
    await assert.rejects(
      protocols[0]!.upgrade!,
      (error: unknown) => error instanceof TlsHandshakeError && error.reason === 'malformed',
    );
    await until(() => protocols[0]!.lostWith !== null);
    assert.ok(protocols[0]!.lostWith instanceof TlsHandshakeError);
    await stop(server);
  });

  it('is offered by the net transport only', () => {
    const { client } = connectPair(new RecordingProtocol(), new RecordingProtocol());
    assert.equal(canStartTls(client), false);
  });
});
