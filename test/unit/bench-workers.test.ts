/**
 * What crosses from the parent to its workers: Node flags without `--eval` code, and plans
 * whose buffers survive the JSON channel byte for byte.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseBenchArgs } from '../../src/bench/args.js';
import { splitPlans } from '../../src/bench/options.js';
import {
  decodePlan,
  encodePlan,
  isFromWorker,
  isToWorker,
} from '../../src/bench/worker-protocol.js';
import { workerExecArgv } from '../../src/bench/workers.js';

test('workers keep loader flags and drop --eval / --print code', () => {
  const argv = [
    '--require',
    '/x/preflight.cjs',
    '--import',
    'file:///x/loader.mjs',
    '--eval',
    'run()',
  ];
  assert.deepEqual(workerExecArgv(argv), [
    '--require',
    '/x/preflight.cjs',
    '--import',
    'file:///x/loader.mjs',
  ]);
  assert.deepEqual(workerExecArgv(['-e', 'x', '--cpu-prof', '-p', 'y', '--print=z', '--eval=w']), [
    '--cpu-prof',
  ]);
  assert.deepEqual(workerExecArgv([]), []);
});

test('a plan survives the channel, buffers included', () => {
  for (const framing of ['none', 'line', 'length']) {
    for (const expect of [
      ['--expect', 'A\\x00B'],
      ['--expect-bytes', '3'],
    ]) {
      const parsed = parseBenchArgs([
        '--framing',
        framing,
        '--message',
        'hi\\xff',
        ...expect,
        '-c',
        '5',
      ]);
      if (parsed.kind !== 'run') throw new Error('expected a run');
      for (const plan of splitPlans(parsed.options, 2)) {
        const wire = JSON.parse(JSON.stringify(encodePlan(plan)));
        assert.deepEqual(decodePlan(wire), plan);
      }
    }
  }
});

test('splitting gives every connection and the whole rate to exactly one process', () => {
  const parsed = parseBenchArgs([
    '--mode',
    'rate',
    '--rate',
    '1000',
    '-c',
    '7',
    '--processes',
    '3',
  ]);
  if (parsed.kind !== 'run') throw new Error('expected a run');
  const plans = splitPlans(parsed.options, 3);
  assert.deepEqual(
    plans.map((plan) => [plan.firstConnection, plan.connections]),
    [
      [0, 3],
      [3, 2],
      [5, 2],
    ],
  );
  assert.ok(Math.abs(plans.reduce((sum, plan) => sum + plan.rate, 0) - 1000) < 1e-9);
});

test('channel guards accept only their own messages', () => {
  assert.ok(isToWorker({ type: 'stop' }));
  assert.ok(!isToWorker({ type: 'result' }));
  assert.ok(isFromWorker({ type: 'progress', progress: {} }));
  assert.ok(!isFromWorker(null));
  assert.ok(!isFromWorker('result'));
});
