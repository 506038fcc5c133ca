/**
 * Unix domain sockets on every backend: a stale socket file is removed at start only when
 * nothing listens on it, `mode` sets the file's permissions, and the file is gone after close.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createConnection } from '../../src/create-connection.js';
import { createServer } from '../../src/create-server.js';
import { InvalidArgumentError, ListenError } from '../../src/errors.js';
import { Protocol } from '../../src/protocol.js';
import type { Transport } from '../../src/transport.js';
import { RecordingProtocol } from '../helpers/recording-protocol.js';
import { toolSkip } from '../helpers/tools.js';
import { transports } from '../helpers/transports.js';

const dir = mkdtempSync(join(tmpdir(), 'aionet-unix-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let counter = 0;
const socketPath = () => join(dir, `s${++counter}.sock`);

class Echo extends Protocol {
  #transport!: Transport;
  override connectionMade(transport: Transport): void {
    this.#transport = transport;
  }
  override dataReceived(data: Buffer): void {
    this.#transport.write(data);
  }
}

/** Leaves a socket file behind with nothing listening: a server process that died. */
function staleSocket(path: string): void {
  execFileSync(process.execPath, [
    '-e',
    `require('net').createServer().listen(${JSON.stringify(path)}, () => process.exit(0))`,
  ]);
  assert.ok(statSync(path).isSocket());
}

/** Connects with a raw socket, sends `text`, resolves with the echo. */
function roundTrip(path: string, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ path }, () => socket.write(text));
    socket.once('data', (data) => {
      socket.destroy();
      resolve(data.toString());
    });
    socket.once('error', reject);
  });
}

for (const backend of transports) {
  describe(`Unix sockets on ${backend}`, () => {
    it('serves on a path; the file is removed on close', async () => {
      const path = socketPath();
      const server = await createServer(() => new Echo(), { transport: backend, path });
      assert.deepEqual(server.addresses(), [{ family: 'unix', path }]);
      assert.equal(await roundTrip(path, 'ping'), 'ping');
      const [client] = await createConnection(() => new RecordingProtocol(), {
        transport: backend,
        path,
      });
      assert.deepEqual(client.getExtraInfo('peername'), { family: 'unix', path });
      client.close();
      server.close();
      server.closeClients();
      await server.waitClosed();
      assert.equal(existsSync(path), false);
    });

    it('removes a stale socket file that nothing listens on', async () => {
      const path = socketPath();
      staleSocket(path);
      const server = await createServer(() => new Echo(), { transport: backend, path });
      assert.equal(await roundTrip(path, 'fresh'), 'fresh');
      server.close();
      await server.waitClosed();
    });

    it('refuses a path a live server listens on, and leaves that server alone', async () => {
      const path = socketPath();
      const first = await createServer(() => new Echo(), { transport: backend, path });
      await assert.rejects(
        createServer(() => new Echo(), { transport: backend, path }),
        (error: unknown) => error instanceof ListenError && error.errno === 'EADDRINUSE',
      );
      assert.equal(await roundTrip(path, 'still here'), 'still here');
      first.close();
      await first.waitClosed();
    });

    it('refuses a path that is a regular file, and does not delete it', async () => {
      const path = socketPath();
      writeFileSync(path, 'precious');
      await assert.rejects(
        createServer(() => new Echo(), { transport: backend, path }),
        (error: unknown) => error instanceof ListenError && error.errno === 'EADDRINUSE',
      );
      assert.equal(statSync(path).isFile(), true);
    });

    it('mode sets the permission bits of the socket file', async () => {
      const path = socketPath();
      const server = await createServer(() => new Echo(), {
        transport: backend,
        path,
        mode: 0o660,
      });
      assert.equal(statSync(path).mode & 0o777, 0o660);
      server.close();
      await server.waitClosed();
    });
  });
}

describe('Unix sockets with socat as the peer', { skip: toolSkip('socat') }, () => {
  it('a UNIX-CONNECT client is echoed', async () => {
    const path = socketPath();
    const server = await createServer(() => new Echo(), { path });
    // Its own process: the server keeps running while socat waits for the echo.
    const socat = spawn('socat', ['-', `UNIX-CONNECT:${path}`], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let output = '';
    socat.stdout.on('data', (data) => {
      output += data.toString();
    });
    socat.stdin.write('ping over socat\n');
    const deadline = Date.now() + 5000;
    while (!output.includes('ping over socat') && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    socat.kill();
    assert.equal(output, 'ping over socat\n');
    server.close();
    server.closeClients();
    await server.waitClosed();
  });
});

describe('Unix socket options', () => {
  it('mode needs a path and valid bits', async () => {
    await assert.rejects(
      createServer(() => new Echo(), { host: '127.0.0.1', port: 0, mode: 0o600 }),
      InvalidArgumentError,
    );
    await assert.rejects(
      createServer(() => new Echo(), { path: socketPath(), mode: 0o1777 }),
      InvalidArgumentError,
    );
  });
});
