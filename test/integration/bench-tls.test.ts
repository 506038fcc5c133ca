/**
 * `aionet bench --tls` against aionet's TLS server (a child process running the bench entry):
 * pingpong and churn over TLS with the certificate verified, `--tls-insecure`, a certificate
 * that does not verify counted as errors, and the flag rules.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createServer } from '../../src/create-server.js';
import { Protocol } from '../../src/protocol.js';
import type { Server } from '../../src/server.js';
import type { Transport } from '../../src/transport.js';
import { runBenchCli as bench } from '../helpers/bench-cli.js';
import { makeTestPki, type TestPki } from '../helpers/tls-certs.js';
import { toolSkip } from '../helpers/tools.js';

class Chapter extends Protocol {
  #transport!: Transport;
  override connectionMade(transport: Transport): void {
    this.#transport = transport;
  }
  override dataReceived(): void {
    this.#transport.write(Buffer.from('Message received'));
  }
}

describe('aionet bench --tls', { skip: toolSkip('openssl') }, () => {
  let pki: TestPki;
  let server: Server;
  let port: number;
  const quick = ['-c', '4', '-w', '0.2', '-d', '0.5', '--json'];

  before(async () => {
    pki = makeTestPki();
    server = await createServer(() => new Chapter(), {
      host: '127.0.0.1',
      port: 0,
      tls: { cert: pki.serverCert, key: pki.serverKey },
      onError: () => {},
    });
    const address = server.addresses()[0];
    assert.ok(address !== undefined && address.family !== 'unix');
    port = address.port;
  });
  after(async () => {
    server.close();
    server.abortClients();
    await server.waitClosed();
    pki.remove();
  });

  for (const mode of ['pingpong', 'churn']) {
    it(`${mode} over TLS with the certificate verified`, async () => {
      const run = await bench([
        '--port',
        `${port}`,
        '--mode',
        mode,
        '--tls',
        '--tls-ca',
        pki.files.ca,
        ...quick,
      ]);
      assert.equal(run.code, 0, run.stderr);
      const summary = JSON.parse(run.stdout);
      assert.match(summary.target, /\(TLS\)$/);
      assert.ok(summary.messages > 0);
      assert.equal(summary.errors, 0);
    });
  }

  it('--tls-insecure accepts the certificate; without a CA it does not verify', async () => {
    const insecure = await bench(['--port', `${port}`, '--tls', '--tls-insecure', ...quick]);
    assert.equal(JSON.parse(insecure.stdout).errors, 0);
    const unverified = await bench(['--port', `${port}`, '--tls', ...quick]);
    const summary = JSON.parse(unverified.stdout);
    assert.equal(summary.messages, 0);
    assert.ok(summary.errors > 0);
  });

  it('--tls-ca and --tls-insecure need --tls, and exclude each other', async () => {
    assert.equal((await bench(['--tls-insecure'])).code, 2);
    assert.equal((await bench(['--tls', '--tls-insecure', '--tls-ca', pki.files.ca])).code, 2);
  });
});
