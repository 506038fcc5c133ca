/**
 * `aionet bench --udp` (a child process running the bench entry) against aionet's UDP endpoint:
 * pingpong with every reply back, lost replies counted as `reply_timeout` against a server that
 * drops every other datagram, `refused` where nothing listens, and the flag rules.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createDatagramEndpoint } from '../../src/udp/create-datagram-endpoint.js';
import { DatagramProtocolBase } from '../../src/udp/datagram-protocol.js';
import type { DatagramAddress, DatagramTransport } from '../../src/udp/datagram-transport.js';
import { DatagramMessageProtocol } from '../../src/udp/message-protocol.js';
import { runBenchCli as bench } from '../helpers/bench-cli.js';

/** Answers every other datagram only: the rest are "lost". */
class Lossy extends DatagramProtocolBase {
  #transport!: DatagramTransport;
  #count = 0;
  override connectionMade(transport: DatagramTransport): void {
    this.#transport = transport;
  }
  override datagramReceived(_data: Buffer, from: DatagramAddress): void {
    if (this.#count++ % 2 === 0) this.#transport.sendTo(Buffer.from('Message received'), from);
  }
}

/** The port of a fresh endpoint, and the endpoint. */
async function endpoint(factory: () => DatagramProtocolBase) {
  const [transport] = await createDatagramEndpoint(factory, { host: '127.0.0.1', port: 0 });
  const address = transport.getExtraInfo('sockname');
  assert.ok(address !== undefined);
  return { transport, port: address.port };
}

describe('aionet bench --udp', () => {
  let chapter: Awaited<ReturnType<typeof endpoint>>;
  let lossy: Awaited<ReturnType<typeof endpoint>>;
  before(async () => {
    chapter = await endpoint(() => new DatagramMessageProtocol());
    lossy = await endpoint(() => new Lossy());
  });
  after(() => {
    chapter.transport.abort();
    lossy.transport.abort();
  });

  it('pingpong over UDP: every reply back, no errors', async () => {
    const run = await bench([
      '--udp',
      '--port',
      `${chapter.port}`,
      '-c',
      '4',
      '-w',
      '0.2',
      '-d',
      '0.5',
      '--json',
    ]);
    assert.equal(run.code, 0, run.stderr);
    const summary = JSON.parse(run.stdout);
    assert.equal(summary.target, `udp 127.0.0.1:${chapter.port}`);
    assert.ok(summary.messages > 0);
    assert.equal(summary.errors, 0);
  });

  it('counts lost replies as reply_timeout', async () => {
    const run = await bench([
      '--udp',
      '--port',
      `${lossy.port}`,
      '-c',
      '2',
      '-w',
      '0',
      '-d',
      '1',
      '--timeout',
      '0.1',
      '--json',
    ]);
    const summary = JSON.parse(run.stdout);
    assert.ok(summary.errors_by_kind.reply_timeout > 0, run.stdout);
    assert.ok(summary.messages > 0);
  });

  it('--udp runs pingpong or rate only, without --tls or --path', async () => {
    assert.equal((await bench(['--udp', '--mode', 'churn'])).code, 2);
    assert.equal((await bench(['--udp', '--tls'])).code, 2);
    assert.equal((await bench(['--udp', '--path', '/tmp/x.sock'])).code, 2);
  });
});
