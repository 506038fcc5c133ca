/**
 * The TLS, PROXY protocol and Unix socket flags of `aionet serve` and `aionet client`, as child
 * processes: serving TLS from files, SIGHUP reloading them, the client's verification choices,
 * PROXY headers from trusted sources only, the socket file's mode, and bad combinations.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import tls from 'node:tls';
import { CliProcess } from '../helpers/cli.js';
import { RawClient, until } from '../helpers/net.js';
import { makeTestPki, type TestPki } from '../helpers/tls-certs.js';
import { toolSkip } from '../helpers/tools.js';

const skip = toolSkip('openssl');
const running: CliProcess[] = [];
let pki: TestPki;
let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'aionet-cli-tls-'));
  if (skip === false) pki = makeTestPki();
});
after(() => {
  for (const cli of running) cli.kill();
  pki?.remove();
  rmSync(dir, { recursive: true, force: true });
});

async function serve(args: string[]) {
  const started = await CliProcess.serve(args);
  running.push(started.cli);
  return started;
}

/** The CN of the certificate the server presents for `servername`. */
function presented(port: number, servername: string): Promise<string> {
  return new Promise((resolve, reject) => {
    // The CN is the answer: no name check, so the old certificate is seen, not refused.
    const options = { host: '127.0.0.1', port, servername, ca: pki.caCert };
    const socket = tls.connect({ ...options, checkServerIdentity: () => undefined }, () => {
      resolve(String(socket.getPeerCertificate().subject.CN));
      socket.end();
    });
    socket.once('error', reject);
  });
}

describe('aionet serve and client with TLS', { skip }, () => {
  it('serves TLS from files; the client verifies with --tls-ca, or not with --tls-insecure', async () => {
    const { cli, port } = await serve([
      '--tls-cert',
      pki.files.serverCert,
      '--tls-key',
      pki.files.serverKey,
    ]);
    const client = (flags: string[]) =>
      CliProcess.run(
        ['client', '--host', '127.0.0.1', '--port', String(port), '--linger', '0.5', ...flags],
        'hello\n',
      );
    const verified = await client(['--tls', '--tls-ca', pki.files.ca]);
    assert.equal(verified.code, 0, verified.stderr);
    assert.equal(verified.stdout, 'Message received');
    const refused = await client(['--tls']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /TLS handshake failed \(server_certificate\)/);
    const insecure = await client(['--tls', '--tls-insecure']);
    assert.equal(insecure.stdout, 'Message received');
    cli.kill('SIGTERM');
    assert.equal(await cli.exited, 0);
  });

  it('SIGHUP re-reads the files: new handshakes get the new certificate; a bad file keeps the old', async () => {
    const cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    copyFileSync(pki.files.serverCert, cert);
    copyFileSync(pki.files.serverKey, key);
    const { cli, port } = await serve(['--tls-cert', cert, '--tls-key', key]);
    assert.equal(await presented(port, 'localhost'), 'localhost');
    const live = await RawClient.connect(port);
    copyFileSync(pki.files.otherCert, cert);
    copyFileSync(pki.files.otherKey, key);
    cli.child.kill('SIGHUP');
    let cn = '';
    for (let i = 0; i < 50 && cn !== 'other.test'; i++) {
      cn = await presented(port, 'other.test');
      if (cn !== 'other.test') await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.equal(cn, 'other.test');
    writeFileSync(key, 'not a key');
    cli.child.kill('SIGHUP');
    await until(() => cli.stderr.includes('SIGHUP:'), 5000, 'the reload error');
    assert.match(cli.stderr, /SIGHUP: tls: OpenSSL refused the settings/);
    assert.equal(await presented(port, 'other.test'), 'other.test');
    assert.equal(live.socket.destroyed, false);
    live.socket.destroy();
    cli.kill('SIGTERM');
    assert.equal(await cli.exited, 0);
  });

  it('requires client certificates with --tls-require-client-cert', async () => {
    const { cli, port } = await serve([
      '--tls-cert',
      pki.files.serverCert,
      '--tls-key',
      pki.files.serverKey,
      '--tls-ca',
      pki.files.ca,
      '--tls-require-client-cert',
      '--tls-handshake-timeout',
      '2',
    ]);
    const without = await new Promise<Error | undefined>((resolve) => {
      const socket = tls.connect({ host: '127.0.0.1', port, ca: pki.caCert }, () =>
        socket.write('x'),
      );
      socket.on('data', () => resolve(undefined));
      socket.on('error', resolve);
      socket.on('close', () => resolve(new Error('closed')));
    });
    assert.ok(without !== undefined);
    await until(() => cli.stderr.includes('client_certificate'), 5000);
    cli.kill('SIGTERM');
    await cli.exited;
  });
});

describe('aionet serve --proxy-protocol', () => {
  it('takes headers from trusted sources and refuses connections without one', async () => {
    const { cli, port } = await serve(['--proxy-protocol', '--proxy-trusted', '127.0.0.0/8']);
    const proxied = await RawClient.connect(port);
    proxied.socket.write('PROXY TCP4 198.51.100.9 192.0.2.1 40000 7000\r\nhello');
    assert.equal((await proxied.waitFor(16)).toString(), 'Message received');
    proxied.socket.destroy();
    const direct = await RawClient.connect(port);
    direct.socket.write('hello without a header');
    await direct.closed;
    assert.equal(direct.received.length, 0);
    await until(() => cli.stderr.includes('ERR_AIONET_PROXY_REJECTED'), 5000);
    assert.match(cli.stderr, /did not start with a header/);
    cli.kill('SIGTERM');
    assert.equal(await cli.exited, 0);
  });

  it('--path-mode sets the socket file mode', async () => {
    const path = join(dir, 'serve.sock');
    const cli = new CliProcess(['serve', '--path', path, '--path-mode', '0600']);
    running.push(cli);
    await cli.waitForLine(/^Serving on /);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    cli.kill('SIGTERM');
    assert.equal(await cli.exited, 0);
  });
});

describe('bad flag combinations', () => {
  const cases: [string, string[], number][] = [
    ['--tls-cert without --tls-key', ['--tls-cert', 'x.pem'], 2],
    ['--tls-ca without --tls-cert', ['--tls-ca', 'x.pem'], 2],
    [
      '--tls-require-client-cert without --tls-ca',
      ['--tls-cert', 'a', '--tls-key', 'b', '--tls-require-client-cert'],
      2,
    ],
    ['--proxy-protocol without --proxy-trusted', ['--proxy-protocol'], 2],
    ['--proxy-trusted without --proxy-protocol', ['--proxy-trusted', '10.0.0.0/8'], 2],
    ['--path-mode without --path', ['--path-mode', '0600'], 2],
    ['--udp with --tls-cert', ['--udp', '--tls-cert', 'a', '--tls-key', 'b'], 2],
    [
      'a certificate file that does not exist',
      ['--tls-cert', '/nonexistent', '--tls-key', '/nonexistent'],
      1,
    ],
    ['a bad trusted network', ['--proxy-protocol', '--proxy-trusted', '10.1.2.3/8'], 1],
  ];
  for (const [what, flags, code] of cases) {
    it(`${what}: exit ${code}`, async () => {
      const result = await CliProcess.run(['serve', '--port', '0', ...flags]);
      assert.equal(result.code, code, result.stderr);
      assert.notEqual(result.stderr, '');
    });
  }

  it('client --tls-insecure without --tls: exit 2', async () => {
    const result = await CliProcess.run(['client', '--tls-insecure']);
    assert.equal(result.code, 2);
  });
});
