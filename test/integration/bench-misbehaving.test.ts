/**
 * The load generator against servers that misbehave on purpose: each fault is reported as its
 * own error kind, and every run ends by itself within its duration plus a small slack.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { parseBenchArgs } from '../../src/bench/args.js';
import type { ErrorKind } from '../../src/bench/error-kinds.js';
import { runBench } from '../../src/bench/runner.js';
import type { BenchSummary } from '../../src/bench/summary.js';
import {
  type Behavior,
  refusedTarget,
  type StuckListener,
  startServer,
  startStuckListener,
  type TestServer,
} from '../helpers/bench-servers.js';

/** Slack a run may take beyond its warm-up and duration, in milliseconds. */
const SLACK_MS = 1000;

/** Runs the generator in-process with these flags; checks it ended in time. */
async function bench(args: string[], budgetMs: number): Promise<BenchSummary> {
  const parsed = parseBenchArgs([...args, '--quiet']);
  assert.equal(parsed.kind, 'run');
  if (parsed.kind !== 'run') throw new Error('unreachable');
  const start = performance.now();
  const summary = await runBench(parsed.options);
  const took = performance.now() - start;
  assert.ok(took < budgetMs + SLACK_MS, `the run took ${Math.round(took)} ms`);
  return summary;
}

/** The only error kinds that are not zero. */
function nonZeroKinds(summary: BenchSummary): ErrorKind[] {
  return Object.entries(summary.errors_by_kind)
    .filter(([, count]) => count > 0)
    .map(([kind]) => kind as ErrorKind);
}

describe('bench against misbehaving servers', () => {
  const servers = new Map<string, TestServer>();
  const behaviors: Record<string, Behavior> = {
    correct: { kind: 'correct' },
    wrong: { kind: 'wrong', reply: Buffer.from('Message receiveX') },
    short: { kind: 'wrong', reply: Buffer.from('Nope') },
    long: { kind: 'wrong', reply: Buffer.from('Message received, thanks') },
    slow: { kind: 'slow', delayMs: 300 },
    reset: { kind: 'reset', after: 5 },
    close: { kind: 'close', after: 5 },
    silent: { kind: 'silent' },
  };
  let refused: Awaited<ReturnType<typeof refusedTarget>>;
  let stuck: StuckListener;

  before(async () => {
    stuck = await startStuckListener();
    for (const [name, behavior] of Object.entries(behaviors)) {
      servers.set(name, await startServer(behavior));
    }
    refused = await refusedTarget();
  });

  after(async () => {
    await Promise.all([...servers.values()].map((server) => server.close()));
    await stuck.close();
    await refused.close();
  });

  const port = (name: string): string => String(servers.get(name)?.port);
  const common = ['--warmup', '0', '--duration', '0.5', '--connections', '4'];

  test('a correct server: messages and no errors', async () => {
    const summary = await bench(['--port', port('correct'), ...common], 500);
    assert.ok(summary.messages > 100, `${summary.messages} messages`);
    assert.equal(summary.errors, 0);
    assert.ok(summary.latency_us.p50 > 0 && summary.latency_us.p50 <= summary.latency_us.max);
  });

  test('a wrong byte is a wrong_reply, and nothing counts as a message', async () => {
    const summary = await bench(['--port', port('wrong'), ...common], 500);
    assert.deepEqual(nonZeroKinds(summary), ['wrong_reply']);
    assert.equal(summary.messages, 0);
  });

  test('a reply of the wrong length is a wrong_reply, short or long', async () => {
    for (const name of ['short', 'long']) {
      const summary = await bench(['--port', port(name), ...common], 500);
      assert.deepEqual(nonZeroKinds(summary), ['wrong_reply'], name);
      assert.equal(summary.messages, 0, name);
    }
  });

  test('a reply slower than --timeout is a reply_timeout', async () => {
    const summary = await bench(['--port', port('slow'), ...common, '--timeout', '0.1'], 500);
    assert.deepEqual(nonZeroKinds(summary), ['reply_timeout']);
    assert.equal(summary.messages, 0);
  });

  test('a slow reply within --timeout is latency, not an error', async () => {
    const args = ['--port', port('slow'), '--warmup', '0', '--duration', '1', '--timeout', '2'];
    const summary = await bench(args, 1000);
    assert.equal(summary.errors, 0);
    assert.ok(summary.messages >= 2, `${summary.messages} messages`);
    assert.ok(summary.latency_us.p50 >= 290_000, `p50 ${summary.latency_us.p50} us`);
  });

  test('a reset after N messages is a reset; the connection comes back', async () => {
    const summary = await bench(['--port', port('reset'), ...common], 500);
    assert.deepEqual(nonZeroKinds(summary), ['reset']);
    // Four connections, five good replies per connection before each reset, then reconnects.
    assert.ok(summary.errors_by_kind.reset >= 8, `${summary.errors_by_kind.reset} resets`);
    assert.ok(summary.messages >= 40, `${summary.messages} messages`);
  });

  test('a close after N messages is closed_early', async () => {
    const summary = await bench(['--port', port('close'), ...common], 500);
    assert.deepEqual(nonZeroKinds(summary), ['closed_early']);
    assert.ok(summary.messages >= 20, `${summary.messages} messages`);
  });

  test('a port nobody listens on is refused, retried at a bounded pace', async () => {
    const summary = await bench(
      ['--host', refused.host, '--port', String(refused.port), ...common],
      500,
    );
    assert.deepEqual(nonZeroKinds(summary), ['refused']);
    assert.equal(summary.messages, 0);
    assert.equal(summary.connected, 0);
    // Four slots retrying every 50 ms for about 0.5 s: tens of attempts, not a busy loop.
    assert.ok(summary.errors >= 4 && summary.errors <= 4 * 20, `${summary.errors} refusals`);
  });

  test('a server that accepts and never answers is a reply_timeout', async () => {
    const summary = await bench(['--port', port('silent'), ...common, '--timeout', '0.2'], 500);
    assert.deepEqual(nonZeroKinds(summary), ['reply_timeout']);
    assert.equal(summary.messages, 0);
    assert.equal(summary.connected, 4);
  });

  test('a silent server never makes a run outlast its duration', async () => {
    const summary = await bench(['--port', port('silent'), ...common, '--timeout', '30'], 500);
    assert.equal(summary.messages, 0);
    assert.equal(summary.errors, 0);
  });

  test('a listener that never accepts: connects time out beyond its queue', async () => {
    const args = [
      '--port',
      `${stuck.port}`,
      '--mode',
      'hold',
      '-c',
      '8',
      '-d',
      '0.2',
      '--timeout',
      '0.3',
    ];
    const summary = await bench(args, 300 + 300 + 300 + 200);
    // The kernel queues a couple of connections for accept(); their message is never read.
    const queued = 8 - summary.errors_by_kind.connect_timeout;
    assert.ok(queued >= 1 && queued <= 3, `${queued} connections queued`);
    assert.equal(summary.errors_by_kind.reply_timeout, queued);
    assert.equal(summary.errors, 8);
    assert.equal(summary.held, 0);
  });

  test('a socket path nobody listens on is refused', async () => {
    const path = `/tmp/aionet-bench-test-${process.pid}.sock`;
    const summary = await bench(['--path', path, ...common], 500);
    assert.deepEqual(nonZeroKinds(summary), ['refused']);
  });
});
