/**
 * `aionet serve --udp` as a child process: the startup line, `Message received` for every
 * datagram (and `Data received` printed for each), several hosts on one port, SIGTERM.
 */
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { after, describe, it } from 'node:test';
import { CliProcess } from '../helpers/cli.js';
import { until } from '../helpers/net.js';

const running: CliProcess[] = [];
after(() => {
  for (const cli of running) cli.kill();
});

/** Sends `count` datagrams to `port` and collects the replies for up to a second. */
async function exchange(port: number, count: number, host = '127.0.0.1'): Promise<string[]> {
  const socket = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
  const replies: string[] = [];
  socket.on('message', (message) => replies.push(message.toString()));
  await new Promise<void>((resolve) => socket.bind(0, host, resolve));
  for (let i = 0; i < count; i++) socket.send(`datagram ${i}`, port, host);
  await until(() => replies.length === count, 1000).catch(() => {});
  socket.close();
  return replies;
}

describe('aionet serve --udp', () => {
  it('answers every datagram with "Message received" and prints "Data received"', async () => {
    const cli = new CliProcess(['serve', '--udp', '--host', '127.0.0.1', '--port', '0']);
    running.push(cli);
    const match = await cli.waitForLine(/^Serving on 127\.0\.0\.1:(\d+) \(udp\)$/);
    const port = Number(match[1]);
    const replies = await exchange(port, 5);
    assert.deepEqual(replies, Array(5).fill('Message received'));
    await until(() => cli.stdout.split('\n').filter((l) => l === 'Data received').length === 5);
    cli.kill('SIGTERM');
    assert.equal(await cli.exited, 0);
  });

  it('--reply, --quiet, and --log-format json for the startup line', async () => {
    const cli = new CliProcess([
      'serve',
      '--udp',
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--reply',
      'pong',
      '--quiet',
      '--log-format',
      'json',
    ]);
    running.push(cli);
    await until(() => cli.stdout.includes('\n'), 10_000, 'the startup line');
    const startup = JSON.parse(cli.stdout.split('\n')[0]!);
    assert.equal(startup.event, 'startup');
    assert.equal(startup.transport, 'udp');
    const port = Number(String(startup.addresses[0]).split(':').at(-1));
    assert.deepEqual(await exchange(port, 3), ['pong', 'pong', 'pong']);
    assert.equal(cli.stdout.split('\n').filter((line) => line !== '').length, 1);
    cli.kill('SIGINT');
    assert.equal(await cli.exited, 0);
  });

  it('a port in use is a startup error (exit 1)', async () => {
    const holder = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => holder.bind(0, '127.0.0.1', resolve));
    const { port } = holder.address();
    const result = await CliProcess.run([
      'serve',
      '--udp',
      '--host',
      '127.0.0.1',
      '--port',
      `${port}`,
    ]);
    holder.close();
    assert.equal(result.code, 1);
    assert.match(result.stderr, /address already in use/);
  });
});
