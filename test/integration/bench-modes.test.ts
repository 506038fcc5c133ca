/**
 * The load generator's modes against small servers: hold, churn, rate (and its correction of
 * coordinated omission), worker processes and source-address spreading.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { parseBenchArgs } from '../../src/bench/args.js';
import { runBench } from '../../src/bench/runner.js';
import type { BenchSummary } from '../../src/bench/summary.js';
import { startServer, type TestServer } from '../helpers/bench-servers.js';

async function bench(args: string[]): Promise<BenchSummary> {
  const parsed = parseBenchArgs([...args, '--quiet']);
  if (parsed.kind !== 'run') throw new Error('expected a run');
  return runBench(parsed.options);
}

describe('bench modes', () => {
  let correct: TestServer;
  let silent: TestServer;
  let dropping: TestServer;

  before(async () => {
    correct = await startServer({ kind: 'correct' });
    silent = await startServer({ kind: 'silent' });
    dropping = await startServer({ kind: 'close', after: 0 });
  });

  after(async () => {
    await Promise.all([correct.close(), silent.close(), dropping.close()]);
  });

  test('hold opens, verifies and holds every connection', async () => {
    const summary = await bench([
      '--port',
      `${correct.port}`,
      '--mode',
      'hold',
      '-c',
      '50',
      '-d',
      '0.5',
    ]);
    assert.equal(summary.held, 50);
    assert.equal(summary.connected, 50);
    assert.equal(summary.messages, 50);
    assert.equal(summary.errors, 0);
    assert.ok(summary.duration_s >= 0.49 && summary.duration_s < 0.7, `${summary.duration_s} s`);
    assert.ok((summary.connect_s ?? -1) >= 0);
  });

  test('hold --no-send holds connections to a server that never answers', async () => {
    const args = [
      '--port',
      `${silent.port}`,
      '--mode',
      'hold',
      '-c',
      '20',
      '-d',
      '0.3',
      '--no-send',
    ];
    const summary = await bench(args);
    assert.equal(summary.held, 20);
    assert.equal(summary.messages, 0);
    assert.equal(summary.errors, 0);
  });

  test('hold counts connections the server drops as closed_early, not held', async () => {
    const summary = await bench([
      '--port',
      `${dropping.port}`,
      '--mode',
      'hold',
      '-c',
      '10',
      '-d',
      '0.3',
    ]);
    assert.equal(summary.held, 0);
    assert.equal(summary.errors_by_kind.closed_early, 10);
  });

  test('churn connects, exchanges and closes, and reports connections per second', async () => {
    const acceptedBefore = correct.accepted();
    const args = [
      '--port',
      `${correct.port}`,
      '--mode',
      'churn',
      '-c',
      '4',
      '-w',
      '0',
      '-d',
      '0.5',
    ];
    const summary = await bench(args);
    assert.equal(summary.errors, 0);
    assert.ok(summary.messages > 50, `${summary.messages} cycles`);
    assert.equal(summary.conns_per_s, summary.msgs_per_s);
    // Every cycle is a connection of its own.
    assert.ok(correct.accepted() - acceptedBefore >= summary.messages);
  });

  test('rate holds the asked rate', async () => {
    const args = ['--port', `${correct.port}`, '--mode', 'rate', '--rate', '400', '-c', '4'];
    const summary = await bench([...args, '-w', '0.2', '-d', '1']);
    assert.equal(summary.errors, 0);
    assert.equal(summary.target_rate, 400);
    assert.ok(Math.abs(summary.msgs_per_s - 400) < 40, `${summary.msgs_per_s} msgs/s`);
  });

  test('rate measures from the intended send time: a stall shows, unlike in pingpong', async () => {
    // The server holds every reply for 300 ms, 300 ms after the first connection.
    const stall = { kind: 'stall', stallAtMs: 300, stallMs: 300 } as const;
    const rateServer = await startServer(stall);
    const pingServer = await startServer(stall);
    try {
      const common = ['-c', '5', '-w', '0', '-d', '1', '--timeout', '2'];
      const [rate, ping] = await Promise.all([
        bench(['--port', `${rateServer.port}`, '--mode', 'rate', '--rate', '500', ...common]),
        bench(['--port', `${pingServer.port}`, ...common]),
      ]);
      assert.equal(rate.errors + ping.errors, 0);
      // Messages due during the stall (about 30 % of them) wait for its end, so the top
      // tenth of the latencies is above 100 ms; in a closed loop only the 5 messages in flight
      // wait, and the queue the stall would have built never exists.
      assert.ok(rate.latency_us.p90 > 100_000, `rate p90 ${rate.latency_us.p90} us`);
      assert.ok(ping.latency_us.p90 < 20_000, `pingpong p90 ${ping.latency_us.p90} us`);
      assert.ok(ping.latency_us.max > 200_000, `pingpong max ${ping.latency_us.max} us`);
    } finally {
      await Promise.all([rateServer.close(), pingServer.close()]);
    }
  });

  test('--processes splits connections over workers and merges their results', async () => {
    const args = [
      '--port',
      `${correct.port}`,
      '-c',
      '4',
      '-w',
      '0',
      '-d',
      '0.5',
      '--processes',
      '2',
    ];
    const summary = await bench(args);
    assert.equal(summary.processes, 2);
    assert.equal(summary.connected, 4);
    assert.equal(summary.errors, 0);
    assert.ok(summary.messages > 100, `${summary.messages} messages`);
  });

  test('--processes in hold mode adds up what each worker held', async () => {
    const args = [
      '--port',
      `${correct.port}`,
      '--mode',
      'hold',
      '-c',
      '30',
      '-d',
      '0.3',
      '--processes',
      '3',
    ];
    const summary = await bench(args);
    assert.equal(summary.held, 30);
    assert.equal(summary.messages, 30);
  });

  test('--sources spreads connections over 127.0.0.x source addresses', async () => {
    const server = await startServer({ kind: 'correct' });
    try {
      await bench([
        '--port',
        `${server.port}`,
        '--mode',
        'hold',
        '-c',
        '6',
        '-d',
        '0.1',
        '--sources',
        '3',
      ]);
      assert.deepEqual([...server.remoteAddresses()].sort(), [
        '127.0.0.1',
        '127.0.0.2',
        '127.0.0.3',
      ]);
    } finally {
      await server.close();
    }
  });
});
