/**
 * `aionet bench` as a child process: exit statuses (0 done, 1 an assertion failed, 2 bad flags
 * with the usage text), the `--json` object, and a run that ends by itself.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ERROR_KINDS } from '../../src/bench/error-kinds.js';
import { runBenchCli as runCli } from '../helpers/bench-cli.js';
import { refusedTarget, startServer, type TestServer } from '../helpers/bench-servers.js';

/** Start-up of a child running TypeScript, on a loaded machine, in milliseconds. */
const STARTUP_MS = 8000;

describe('aionet bench (child process)', () => {
  let server: TestServer;
  let refused: Awaited<ReturnType<typeof refusedTarget>>;
  const quick = ['-c', '2', '-w', '0', '-d', '0.5'];

  before(async () => {
    server = await startServer({ kind: 'correct' });
    refused = await refusedTarget();
  });

  after(async () => {
    await server.close();
    await refused.close();
  });

  test('--json prints one object with the documented fields, and exits 0', async () => {
    const { code, stdout, ms } = await runCli(['--port', `${server.port}`, ...quick, '--json']);
    assert.equal(code, 0);
    const summary = JSON.parse(stdout);
    assert.equal(summary.mode, 'pingpong');
    assert.equal(summary.connections, 2);
    assert.equal(summary.duration_s, 0.5);
    assert.ok(Number.isInteger(summary.messages) && summary.messages > 0);
    assert.ok(summary.msgs_per_s > 0);
    assert.equal(summary.errors, 0);
    assert.deepEqual(Object.keys(summary.errors_by_kind), [...ERROR_KINDS]);
    assert.deepEqual(Object.keys(summary.latency_us), ['p50', 'p90', 'p99', 'p999', 'max', 'mean']);
    assert.ok(summary.latency_us.p50 > 0 && summary.latency_us.p50 <= summary.latency_us.p99);
    assert.ok(ms < 500 + STARTUP_MS, `took ${Math.round(ms)} ms`);
  });

  test('hold and churn add held and conns_per_s to the JSON', async () => {
    const hold = await runCli([
      '--port',
      `${server.port}`,
      '--mode',
      'hold',
      '-c',
      '5',
      '-d',
      '0.2',
      '--json',
    ]);
    assert.equal(JSON.parse(hold.stdout).held, 5);
    const churn = await runCli(['--port', `${server.port}`, '--mode', 'churn', ...quick, '--json']);
    assert.ok(JSON.parse(churn.stdout).conns_per_s > 0);
  });

  test('assertions that hold exit 0; one that fails exits 1 and says which', async () => {
    const pass = await runCli([
      '--port',
      `${server.port}`,
      ...quick,
      '-q',
      '--assert',
      'errors=0',
      '--assert',
      'msgs_per_s>10',
      '--assert',
      'p99<10s',
    ]);
    assert.equal(pass.code, 0, pass.stderr);
    assert.match(pass.stderr, /ok: errors=0/);
    const fail = await runCli([
      '--port',
      `${server.port}`,
      ...quick,
      '-q',
      '--assert',
      'errors=0',
      '--assert',
      'p50<1us',
    ]);
    assert.equal(fail.code, 1);
    assert.match(fail.stderr, /FAILED: p50<1us/);
    assert.doesNotMatch(fail.stderr, /FAILED: errors=0/);
  });

  test('errors=0 fails against a refused port', async () => {
    const { code, stdout } = await runCli([
      '--host',
      refused.host,
      '--port',
      `${refused.port}`,
      ...quick,
      '--assert',
      'errors=0',
    ]);
    assert.equal(code, 1);
    assert.match(stdout, /errors\s+\d+: refused \d+/);
  });

  test('bad flags exit 2 with the usage on stderr and nothing run', async () => {
    for (const args of [
      ['--connections', '0'],
      ['--bogus'],
      ['--assert', 'p99<10'],
      ['--mode', 'rate'],
    ]) {
      const { code, stderr, stdout } = await runCli(args);
      assert.equal(code, 2, args.join(' '));
      assert.match(stderr, /^aionet bench: /);
      assert.match(stderr, /usage: aionet bench/);
      assert.equal(stdout, '');
    }
  });

  test('--help prints the usage on stdout and exits 0', async () => {
    const { code, stdout } = await runCli(['--help']);
    assert.equal(code, 0);
    assert.match(stdout, /--mode M/);
  });
});
