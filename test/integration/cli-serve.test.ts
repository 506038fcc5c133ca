/**
 * `aionet serve` and `aionet client` as child processes: the chapter's lines, signals and exit
 * statuses, clear errors, running out of file descriptors.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { after, describe, it } from 'node:test';
import { CliProcess } from '../helpers/cli.js';
import { delay, RawClient } from '../helpers/net.js';

const running: CliProcess[] = [];
after(() => {
  for (const cli of running) cli.kill();
});

async function serve(args: string[] = [], options: { shell?: string } = {}) {
  const started = await CliProcess.serve(args, options);
  running.push(started.cli);
  return started;
}

describe('aionet serve', () => {
  it('prints the chapter lines and answers every read with the 16 bytes', async () => {
    const { cli, port } = await serve();
    const client = await RawClient.connect(port);
    client.socket.write('hello\n');
    assert.equal((await client.waitFor(16)).toString(), 'Message received');
    await cli.waitForLine(/^Data received$/);
    client.socket.end();
    await client.closed;
    // The startup report is two lines (where it serves, its limits); the chapter's come next.
    const lines = cli.stdout.trim().split('\n');
    assert.match(lines[1]!, /^Limits: /);
    assert.deepEqual(lines.slice(2), ['Got a new connection', 'Data received']);
    cli.kill('SIGINT');
    assert.equal(await cli.exited, 0);
  });

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`${signal} closes the server and its connections and exits 0 within 2 s`, async () => {
      const { cli, port } = await serve();
      const clients = await Promise.all([1, 2, 3].map(() => RawClient.connect(port)));
      for (const client of clients) client.socket.write('x');
      for (const client of clients) await client.waitFor(16);
      const started = Date.now();
      cli.kill(signal);
      assert.equal(await cli.exited, 0);
      assert.ok(Date.now() - started < 2000, `took ${Date.now() - started} ms`);
      for (const client of clients) {
        assert.equal(await client.closed, undefined, 'closed with FIN, not reset');
        assert.equal(client.ended, true);
      }
      await assert.rejects(RawClient.connect(port));
    });
  }

  it('a second SIGINT during shutdown aborts at once (exit 130)', async () => {
    const { cli, port } = await serve(['--quiet', '--reply', 'x'.repeat(100 * 1024)]);
    // A client that never reads: the graceful close cannot flush, so shutdown waits.
    const stuck = net.connect({ port, host: '127.0.0.1' });
    stuck.on('error', () => {});
    stuck.pause();
    await new Promise((resolve) => stuck.once('connect', resolve));
    // 300 separate reads of 100 KiB replies: far more than the kernel's socket buffers hold.
    for (let i = 0; i < 300; i++) {
      stuck.write('fill');
      await delay(2);
    }
    await delay(100);
    cli.kill('SIGINT');
    await delay(100);
    assert.equal(cli.child.exitCode, null, 'still draining after the first signal');
    const started = Date.now();
    cli.kill('SIGINT');
    assert.equal(await cli.exited, 130);
    assert.ok(Date.now() - started < 500, `took ${Date.now() - started} ms`);
    stuck.destroy();
  });

  it('a port in use: one clear line and exit 1', async () => {
    const { port } = await serve();
    const { code, stderr } = await CliProcess.run([
      'serve',
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
    ]);
    assert.equal(code, 1);
    assert.equal(stderr, `cannot listen on 127.0.0.1:${port}: address already in use\n`);
  });

  it('bad flags: usage and exit 2', async () => {
    for (const args of [
      ['serve', '--bogus'],
      ['serve', '--port', 'seven'],
      ['serve', '--port', '70000'],
      ['nope'],
    ]) {
      const { code, stderr } = await CliProcess.run(args);
      assert.equal(code, 2, `${args.join(' ')}: ${stderr}`);
      assert.match(stderr, /usage|Usage/);
    }
  });

  it('--help and --version', async () => {
    const help = await CliProcess.run(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Commands:\n {2}serve/);
    const serveHelp = await CliProcess.run(['serve', '--help']);
    assert.equal(serveHelp.code, 0);
    assert.match(serveHelp.stdout, /--quiet/);
    const benchHelp = await CliProcess.run(['bench', '--help']);
    assert.equal(benchHelp.code, 0, benchHelp.stderr);
    assert.match(benchHelp.stdout, /aionet bench/);
    const version = await CliProcess.run(['--version']);
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
    assert.equal(version.stdout.trim(), pkg.version);
  });

  it('--quiet prints only the startup report and the shutdown summary', async () => {
    const { cli, port } = await serve(['--quiet']);
    const client = await RawClient.connect(port);
    client.socket.write('x');
    await client.waitFor(16);
    client.socket.end();
    await client.closed;
    cli.kill('SIGINT');
    assert.equal(await cli.exited, 0);
    const lines = cli.stdout.trim().split('\n');
    assert.equal(lines.length, 3, cli.stdout);
    assert.match(lines[0]!, /^Serving on 127\.0\.0\.1:\d+ \((?:native|net) transport\)$/);
    assert.match(
      lines[1]!,
      /^Limits: max-connections=unlimited idle-timeout=off max-write-buffer=1048576 write-stall-timeout=off drain-timeout=10s fds=/,
    );
    assert.equal(lines[2], 'Shut down: 0 drained, 0 aborted');
  });

  it('survives running out of file descriptors, without spinning, and recovers', async () => {
    const { cli, port } = await serve(['--quiet'], { shell: 'ulimit -n 64' });
    const pid = cli.child.pid!;
    const flood: net.Socket[] = [];
    for (let i = 0; i < 200; i++) {
      const socket = net.connect({ port, host: '127.0.0.1' });
      socket.on('error', () => {});
      flood.push(socket);
    }
    await delay(300);
    const before = cpuSeconds(pid);
    await delay(1000);
    const used = cpuSeconds(pid) - before;
    assert.ok(used < 0.8, `server used ${used.toFixed(2)} s of CPU in 1 s: a busy loop?`);
    assert.equal(cli.child.exitCode, null, 'the server is alive');
    for (const socket of flood) socket.destroy();
    await delay(300);
    // Descriptors are free again: new clients are served.
    for (let i = 0; i < 20; i++) {
      const client = await RawClient.connect(port);
      client.socket.write('x');
      assert.equal((await client.waitFor(16)).toString(), 'Message received');
      client.socket.end();
      await client.closed;
    }
    cli.kill('SIGINT');
    assert.equal(await cli.exited, 0);
  });
});

describe('aionet client', () => {
  it('sends each input line and prints the replies; exits 0 at EOF', async () => {
    const { port } = await serve();
    const { code, stdout } = await CliProcess.run(
      ['client', '--host', '127.0.0.1', '--port', String(port), '--linger', '1'],
      'one\n',
    );
    assert.equal(code, 0);
    assert.equal(stdout, 'Message received');
  });

  it('cannot connect: one line and exit 1', async () => {
    const probe = net.createServer();
    const port = await new Promise<number>((resolve) =>
      probe.listen(0, '127.0.0.1', () => resolve((probe.address() as net.AddressInfo).port)),
    );
    await new Promise((resolve) => probe.close(resolve));
    const { code, stderr } = await CliProcess.run([
      'client',
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
    ]);
    assert.equal(code, 1);
    assert.equal(stderr, `connection refused by 127.0.0.1:${port}\n`);
  });
});

/** CPU seconds (user + system) a process has used, from /proc. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return ticks / 100;
}

describe('aionet serve --framing', () => {
  it('line: one reply per line, however the lines are cut', async () => {
    const { port } = await serve(['--framing', 'line', '--quiet']);
    const client = await RawClient.connect(port);
    client.socket.write('one\ntw');
    await delay(20);
    client.socket.write('o\nthree\n');
    assert.equal((await client.waitFor(51)).toString(), 'Message received\n'.repeat(3));
    client.socket.end();
    await client.closed;
  });

  it('length: one length-prefixed reply per frame', async () => {
    const { port } = await serve(['--framing', 'length', '--quiet']);
    const client = await RawClient.connect(port);
    const frame = (text: string) => {
      const body = Buffer.from(text);
      const header = Buffer.alloc(4);
      header.writeUInt32BE(body.length);
      return Buffer.concat([header, body]);
    };
    client.socket.write(Buffer.concat([frame('a'), frame(''), frame('hello')]));
    const reply = await client.waitFor(60);
    assert.deepEqual(
      reply,
      Buffer.concat([
        frame('Message received'),
        frame('Message received'),
        frame('Message received'),
      ]),
    );
    client.socket.end();
    await client.closed;
  });

  it('an oversized frame closes that connection with one log line; others go on', async () => {
    const { cli, port } = await serve(['--framing', 'line', '--max-frame', '16', '--quiet']);
    const healthy = await RawClient.connect(port);
    const abuser = await RawClient.connect(port);
    abuser.socket.write(`${'x'.repeat(100)}\n`);
    await abuser.closed;
    assert.equal(abuser.received.length, 0);
    healthy.socket.write('still here\n');
    assert.equal((await healthy.waitFor(17)).toString(), 'Message received\n');
    const lines = cli.stderr.trim().split('\n');
    assert.equal(lines.length, 1, cli.stderr);
    assert.match(
      lines[0]!,
      /ERR_AIONET_FRAME_TOO_LARGE: frame of \d+ bytes exceeds the limit of 16$/,
    );
    healthy.socket.end();
    await healthy.closed;
  });

  it('rejects an unknown framing and --max-frame without framing', async () => {
    assert.equal((await CliProcess.run(['serve', '--framing', 'xml'])).code, 2);
    assert.equal((await CliProcess.run(['serve', '--max-frame', '10'])).code, 2);
    assert.equal(
      (await CliProcess.run(['serve', '--framing', 'line', '--max-frame', '0'])).code,
      2,
    );
  });
});
