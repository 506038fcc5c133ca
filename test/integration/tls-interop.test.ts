/**
 * aionet's TLS server against real peers that share none of its code: `openssl s_client`
 * (TLS 1.0 and 1.1 refused, 1.2 and 1.3 accepted, ALPN negotiated, a client certificate) and
 * `socat` (its OPENSSL address). Each peer runs as a child process with loopback only.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { createServer } from '../../src/create-server.js';
import type { Server } from '../../src/server.js';
import type { TlsServerOptions } from '../../src/tls/options.js';
import { until } from '../helpers/net.js';
import { RecordingProtocol } from '../helpers/recording-protocol.js';
import { makeTestPki, type TestPki } from '../helpers/tls-certs.js';
import { toolSkip } from '../helpers/tools.js';

const opensslSkip = toolSkip('openssl');
const socatSkip = toolSkip('socat');

let pki: TestPki;
let server: Server;
let port = 0;
const protocols: RecordingProtocol[] = [];

/** The chapter server over TLS with `extra` TLS options. */
async function start(extra: Partial<TlsServerOptions> = {}): Promise<void> {
  protocols.length = 0;
  server = await createServer(
    () => {
      const protocol = new RecordingProtocol({
        onData: (_data, transport) => transport.write(Buffer.from('Message received\n')),
      });
      protocols.push(protocol);
      return protocol;
    },
    {
      host: '127.0.0.1',
      port: 0,
      tls: { cert: pki.serverCert, key: pki.serverKey, ...extra },
      onError: () => {},
    },
  );
  const address = server.addresses()[0];
  assert.ok(address !== undefined && address.family !== 'unix');
  port = address.port;
}

async function stop(): Promise<void> {
  server.close();
  server.abortClients();
  await server.waitClosed();
}

/**
 * Runs a peer program, writes `hello` once it is connected, and resolves with everything it
 * printed once it printed `Message received`, exited, or 5 s passed.
 */
function peer(command: string, args: string[]): Promise<{ output: string; code: number | null }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    let done = false;
    const finish = (code: number | null) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      resolve({ output, code });
    };
    const timer = setTimeout(() => finish(null), 5000);
    const collect = (data: Buffer) => {
      output += data.toString();
      if (output.includes('Message received')) finish(0);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('exit', (code) => setTimeout(() => finish(code), 50));
    child.stdin.on('error', () => {});
    child.stdin.write('hello\n');
  });
}

const sClient = (args: string[]) =>
  peer('openssl', [
    's_client',
    '-connect',
    `127.0.0.1:${port}`,
    '-servername',
    'localhost',
    '-CAfile',
    pki.files.ca,
    ...args,
  ]);

describe('openssl s_client', { skip: opensslSkip }, () => {
  before(async () => {
    pki = makeTestPki();
    await start({ ALPNProtocols: ['h2', 'http/1.1'] });
  });
  after(async () => {
    await stop();
    pki.remove();
  });

  for (const version of ['-tls1', '-tls1_1']) {
    it(`${version} is refused`, async () => {
      const before = server.stats.tlsHandshakeFailures.protocol_version;
      // SECLEVEL=0: the client itself would not offer these versions otherwise.
      const { output } = await sClient([version, '-cipher', 'DEFAULT@SECLEVEL=0']);
      assert.doesNotMatch(output, /Message received/);
      await until(() => server.stats.tlsHandshakeFailures.protocol_version === before + 1);
    });
  }

  for (const [flag, version] of [
    ['-tls1_2', 'TLSv1.2'],
    ['-tls1_3', 'TLSv1.3'],
  ] as const) {
    it(`${flag} is accepted and served`, async () => {
      const { output } = await sClient([flag]);
      assert.match(output, /Verify return code: 0 \(ok\)/);
      assert.match(output, /Message received/);
      await until(() => protocols.some((p) => p.transport?.getExtraInfo('tlsVersion') === version));
    });
  }

  it('ALPN is negotiated', async () => {
    const { output } = await sClient(['-alpn', 'h2']);
    assert.match(output, /ALPN protocol: h2/);
    assert.match(output, /Message received/);
  });

  it('an unknown ALPN protocol is refused', async () => {
    const before = server.stats.tlsHandshakeFailures.alpn;
    const { output } = await sClient(['-alpn', 'smtp']);
    assert.doesNotMatch(output, /Message received/);
    await until(() => server.stats.tlsHandshakeFailures.alpn === before + 1);
  });
});

describe('openssl s_client with a client certificate', { skip: opensslSkip }, () => {
  before(async () => {
    pki = makeTestPki();
    await start({ ca: pki.caCert, requestCert: true });
  });
  after(async () => {
    await stop();
    pki.remove();
  });

  it("the CA's client certificate is accepted, and the server sees it", async () => {
    const { output } = await sClient(['-cert', pki.files.clientCert, '-key', pki.files.clientKey]);
    assert.match(output, /Message received/);
    await until(() => protocols.length > 0 && protocols.at(-1)!.transport !== undefined);
    assert.equal(protocols.at(-1)!.transport!.getExtraInfo('peerCertificate')?.subject.CN, 'alice');
  });

  it("another CA's client certificate is refused", async () => {
    const { output } = await sClient([
      '-cert',
      pki.files.strangerCert,
      '-key',
      pki.files.strangerKey,
    ]);
    assert.doesNotMatch(output, /Message received/);
    await until(() => server.stats.tlsHandshakeFailures.client_certificate >= 1);
  });
});

describe('socat', { skip: opensslSkip || socatSkip }, () => {
  before(async () => {
    pki = makeTestPki();
    await start();
  });
  after(async () => {
    await stop();
    pki.remove();
  });

  it('an OPENSSL client that verifies the certificate is served', async () => {
    const { output } = await peer('socat', [
      '-',
      `OPENSSL:127.0.0.1:${port},cafile=${pki.files.ca},commonname=localhost`,
    ]);
    assert.match(output, /Message received/);
  });
});
