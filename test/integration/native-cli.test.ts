/**
 * `aionet serve --transport` as a child process: the startup line names the backend, `auto`
 * falls back to `net` with one line where the addon is missing (simulated with
 * AIONET_NATIVE=off), `native` there is a clear error, and the native engine backs off when the
 * process runs out of file descriptors.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { after, describe, it } from 'node:test';
import { CliProcess } from '../helpers/cli.js';
import { delay, RawClient } from '../helpers/net.js';
import { nativeSkip } from '../helpers/transports.js';

const running: CliProcess[] = [];
after(() => {
  for (const cli of running) cli.kill();
});

const WITHOUT_ADDON = { shell: 'export AIONET_NATIVE=off' };

describe('aionet serve --transport', () => {
  it('net: the startup line says so', async () => {
    const { cli } = await CliProcess.serve(['--quiet', '--transport', 'net']);
    running.push(cli);
    assert.match(cli.stdout, /^Serving on 127\.0\.0\.1:\d+ \(net transport\)\n/);
    cli.kill('SIGINT');
    assert.equal(await cli.exited, 0);
  });

  it('native: the startup line says so, and it serves', { skip: nativeSkip }, async () => {
    const { cli, port } = await CliProcess.serve(['--quiet', '--transport', 'native']);
    running.push(cli);
    assert.match(cli.stdout, /^Serving on 127\.0\.0\.1:\d+ \(native transport\)\n/);
    const client = await RawClient.connect(port);
    client.socket.write('hello\n');
    assert.equal((await client.waitFor(16)).toString(), 'Message received');
    client.socket.end();
    await client.closed;
    cli.kill('SIGINT');
    assert.equal(await cli.exited, 0);
  });

  it('auto without the addon: net, and one line on stderr saying why', async () => {
    const { cli, port } = await CliProcess.serve(['--quiet', '--transport', 'auto'], WITHOUT_ADDON);
    running.push(cli);
    assert.match(cli.stdout, /\(net transport\)/);
    const client = await RawClient.connect(port);
    client.socket.write('x');
    await client.waitFor(16);
    client.socket.end();
    await client.closed;
    cli.kill('SIGINT');
    assert.equal(await cli.exited, 0);
    const lines = cli.stderr.trim().split('\n');
    assert.equal(
      lines[0],
      'aionet: native transport not available (disabled by AIONET_NATIVE=off); using net',
    );
    assert.equal(lines.filter((line) => line.includes('not available')).length, 1);
  });

  it('the default without the addon, stderr piped: net, and only the startup line says so', async () => {
    const { cli } = await CliProcess.serve(['--quiet'], WITHOUT_ADDON);
    running.push(cli);
    assert.match(cli.stdout, /\(net transport\)/);
    cli.kill('SIGINT');
    assert.equal(await cli.exited, 0);
    assert.doesNotMatch(cli.stderr, /not available/);
  });

  it('native without the addon: a clear error, exit 1', async () => {
    const cli = new CliProcess(
      ['serve', '--host', '127.0.0.1', '--port', '0', '--transport', 'native'],
      WITHOUT_ADDON,
    );
    running.push(cli);
    assert.equal(await cli.exited, 1);
    assert.equal(
      cli.stderr.trim(),
      "transport 'native' is not available: disabled by AIONET_NATIVE=off",
    );
  });

  it('an unknown transport is a usage error', async () => {
    const { code, stderr } = await CliProcess.run(['serve', '--transport', 'uring']);
    assert.equal(code, 2);
    assert.match(stderr, /--transport must be auto, native or net, got 'uring'/);
  });

  it('native: out of file descriptors it backs off (no spin, reports at most once a second) and recovers', {
    skip: nativeSkip,
  }, async () => {
    const { cli, port } = await CliProcess.serve(['--quiet', '--transport', 'native'], {
      shell: 'ulimit -n 64',
    });
    running.push(cli);
    const pid = cli.child.pid!;
    const flood: net.Socket[] = [];
    for (let i = 0; i < 200; i++) {
      const socket = net.connect({ port, host: '127.0.0.1' });
      socket.on('error', () => {});
      flood.push(socket);
    }
    await delay(300);
    const before = cpuSeconds(pid);
    await delay(1500);
    const used = cpuSeconds(pid) - before;
    assert.ok(used < 0.5, `server used ${used.toFixed(2)} s of CPU in 1.5 s: a busy loop?`);
    const reports = cli.stderr.split('\n').filter((line) => line.includes('EMFILE'));
    assert.ok(reports.length >= 1 && reports.length <= 3, `${reports.length} reports`);
    for (const socket of flood) socket.destroy();
    await delay(300);
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

function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}
