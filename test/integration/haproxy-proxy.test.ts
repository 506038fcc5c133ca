/**
 * The PROXY protocol behind a real HAProxy (a child process with a generated configuration,
 * loopback only): `send-proxy` (v1), `send-proxy-v2` with `proxy-v2-options crc32c,unique-id`,
 * and HAProxy's health checks (v2 LOCAL). The peername aionet reports must be the real client's
 * address, and the TLVs must arrive.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createServer } from '../../src/create-server.js';
import type { Server } from '../../src/server.js';
import { delay, RawClient, until } from '../helpers/net.js';
import { grammarViolations, RecordingProtocol } from '../helpers/recording-protocol.js';
import { toolSkip } from '../helpers/tools.js';

const skip = toolSkip('haproxy');

/** A free loopback port (bound then released: HAProxy needs a number in its configuration). */
async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** Resolves once something accepts connections on `port`. */
async function listening(port: number, deadlineMs = 10_000): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host: '127.0.0.1', port }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${port}`);
    await delay(50);
  }
}

describe('behind HAProxy', { skip }, () => {
  let dir: string;
  let haproxy: ChildProcess;
  let server: Server;
  const protocols: RecordingProtocol[] = [];
  const errors: Error[] = [];
  let v1Port = 0;
  let v2Port = 0;
  let haproxyOutput = '';

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'aionet-haproxy-'));
    server = await createServer(
      () => {
        const protocol = new RecordingProtocol({
          onData: (_data, transport) => transport.write(Buffer.from('Message received')),
        });
        protocols.push(protocol);
        return protocol;
      },
      {
        host: '127.0.0.1',
        port: 0,
        proxyProtocol: { trusted: ['127.0.0.1'] },
        onError: (error) => errors.push(error),
      },
    );
    const address = server.addresses()[0];
    assert.ok(address !== undefined && address.family !== 'unix');
    v1Port = await freePort();
    v2Port = await freePort();
    const config = `
global
  maxconn 200

defaults
  mode tcp
  timeout connect 2s
  timeout client 10s
  timeout server 10s

frontend v1
  bind 127.0.0.1:${v1Port}
  default_backend aionet_v1

backend aionet_v1
  server s1 127.0.0.1:${address.port} send-proxy

frontend v2
  bind 127.0.0.1:${v2Port}
  unique-id-format %ci:%cp_%fi:%fp_%rt
  default_backend aionet_v2

backend aionet_v2
  option tcp-check
  tcp-check send ping
  tcp-check expect string Message
  server s2 127.0.0.1:${address.port} send-proxy-v2 proxy-v2-options crc32c,unique-id check check-send-proxy inter 200ms
`;
    const file = join(dir, 'haproxy.cfg');
    writeFileSync(file, config);
    haproxy = spawn('haproxy', ['-db', '-f', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    haproxy.stdout!.on('data', (d) => {
      haproxyOutput += d;
    });
    haproxy.stderr!.on('data', (d) => {
      haproxyOutput += d;
    });
    await listening(v1Port).catch((error) => {
      throw new Error(`${error.message}; haproxy said: ${haproxyOutput}`);
    });
    await listening(v2Port);
  });

  after(async () => {
    haproxy?.kill('SIGTERM');
    if (server !== undefined) {
      server.close();
      server.abortClients();
      await server.waitClosed();
    }
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  /** Connects through HAProxy's `port`, exchanges one message; the protocol that served it. */
  async function through(port: number): Promise<{ protocol: RecordingProtocol; local: number }> {
    const before = protocols.length;
    const client = await RawClient.connect(port);
    const local = client.socket.localPort!;
    client.socket.write('hello');
    assert.equal((await client.waitFor(16)).toString(), 'Message received');
    const protocol = protocols
      .slice(before)
      .find(
        (p) => p.transport?.getExtraInfo('peername')?.family === 'IPv4' && p.received().length > 0,
      );
    assert.ok(protocol !== undefined, 'the connection that carried the message');
    client.socket.end();
    await protocol.lost;
    return { protocol, local };
  }

  it('send-proxy (v1): peername is the real client, proxyPeername HAProxy', async () => {
    const { protocol, local } = await through(v1Port);
    const transport = protocol.transport!;
    assert.deepEqual(transport.getExtraInfo('peername'), {
      family: 'IPv4',
      address: '127.0.0.1',
      port: local,
    });
    const proxy = transport.getExtraInfo('proxyPeername');
    assert.equal(proxy?.family, 'IPv4');
    assert.notEqual(proxy?.family === 'IPv4' ? proxy.port : local, local);
    assert.equal(transport.getExtraInfo('proxyHeader')?.version, 1);
    assert.deepEqual(transport.getExtraInfo('proxyHeader')?.destination, {
      family: 'IPv4',
      address: '127.0.0.1',
      port: v1Port,
    });
    assert.equal(protocol.received().toString(), 'hello');
    assert.deepEqual(grammarViolations(protocol.events), []);
  });

  it('send-proxy-v2 with crc32c and unique-id: the TLVs arrive, verified', async () => {
    const { protocol, local } = await through(v2Port);
    const transport = protocol.transport!;
    assert.deepEqual(transport.getExtraInfo('peername'), {
      family: 'IPv4',
      address: '127.0.0.1',
      port: local,
    });
    const header = transport.getExtraInfo('proxyHeader');
    assert.equal(header?.version, 2);
    const tlvs = transport.getExtraInfo('proxyTlvs');
    assert.equal(typeof tlvs?.crc32c, 'number');
    const uniqueId = tlvs?.uniqueId?.toString() ?? '';
    assert.match(uniqueId, new RegExp(`^127\\.0\\.0\\.1:${local}_127\\.0\\.0\\.1:${v2Port}_\\d+$`));
  });

  it("HAProxy's health checks arrive as LOCAL headers and are accepted", async () => {
    await until(
      () => protocols.some((p) => p.transport?.getExtraInfo('proxyHeader')?.command === 'local'),
      5000,
      'a LOCAL health check',
    );
    const check = protocols.find(
      (p) => p.transport?.getExtraInfo('proxyHeader')?.command === 'local',
    )!;
    const peer = check.transport!.getExtraInfo('peername');
    assert.deepEqual(peer, check.transport!.getExtraInfo('proxyPeername'));
  });

  it('refused nothing and reported nothing', () => {
    assert.deepEqual(errors, []);
    assert.deepEqual(
      Object.values(server.stats.proxyRejected).reduce((a, b) => a + b, 0),
      0,
    );
    assert.ok(server.stats.proxyAccepted >= 3);
  });
});
