/**
 * The pure parts of worker groups: the restart back-off and crash-loop window, the policy's
 * defaults and checks, the mode each transport and Node version gets, the worker count, the
 * fd-limit arithmetic, and the flags the primary keeps for itself.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidArgumentError } from '../../src/errors.js';
import { netHasReusePort } from '../../src/net/listener.js';
import { parseWorkers, withoutPrimaryFlags } from '../../src/workers/cli.js';
import { CrashHistory } from '../../src/workers/crash-history.js';
import { FD_RESERVE, groupCapacity, openFileLimit } from '../../src/workers/fd-limit.js';
import { chooseMode } from '../../src/workers/mode.js';
import { resolveRestartPolicy, resolveWorkerCount } from '../../src/workers/options.js';

describe('CrashHistory', () => {
  const policy = resolveRestartPolicy({
    backoffMs: 100,
    maxBackoffMs: 500,
    crashLoopLimit: 5,
    windowMs: 10_000,
  });

  it('doubles the delay for each crash within the window, up to the maximum', () => {
    const history = new CrashHistory(policy);
    const delays = [0, 1, 2, 3].map((i) => history.record(i * 1000));
    assert.deepEqual(
      delays.map((v) => (v.restart ? v.delayMs : -1)),
      [100, 200, 400, 500],
    );
    assert.equal(history.total, 4);
  });

  it('stops restarts at the crash-loop limit', () => {
    const history = new CrashHistory(policy);
    for (let i = 0; i < 4; i++) assert.equal(history.record(i).restart, true);
    assert.deepEqual(history.record(4), { restart: false, crashes: 5 });
  });

  it('forgets crashes older than the window: the back-off starts over', () => {
    const history = new CrashHistory(policy);
    history.record(0);
    history.record(1000);
    const later = history.record(11_500);
    assert.deepEqual(later, { restart: true, delayMs: 100, crashes: 1 });
    assert.equal(history.total, 3);
  });
});

describe('restart policy and worker count', () => {
  it('fills in the defaults', () => {
    assert.deepEqual(resolveRestartPolicy(), {
      backoffMs: 100,
      maxBackoffMs: 10_000,
      crashLoopLimit: 5,
      windowMs: 60_000,
    });
  });

  it('refuses negative or fractional values', () => {
    assert.throws(() => resolveRestartPolicy({ backoffMs: -1 }), InvalidArgumentError);
    assert.throws(() => resolveRestartPolicy({ crashLoopLimit: 0 }), InvalidArgumentError);
    assert.throws(() => resolveRestartPolicy({ crashLoopLimit: 1.5 }), InvalidArgumentError);
  });

  it("takes a count or 'auto'", () => {
    assert.equal(resolveWorkerCount(3), 3);
    assert.ok(resolveWorkerCount('auto') >= 1);
    assert.throws(() => resolveWorkerCount(0), InvalidArgumentError);
    assert.throws(() => resolveWorkerCount(2.5), InvalidArgumentError);
    assert.equal(parseWorkers('auto'), 'auto');
    assert.equal(parseWorkers('6'), 6);
    assert.throws(() => parseWorkers('0'), /--workers must be auto or a whole number >= 1/);
    assert.throws(() => parseWorkers('two'), /--workers/);
  });
});

describe('mode', () => {
  it('reuseport for native everywhere; for net from Node 22.12 / 23.1; cluster before', () => {
    assert.equal(chooseMode('native', false, '20.20.2'), 'reuseport');
    assert.equal(chooseMode('net', false, '20.20.2'), 'cluster');
    assert.equal(chooseMode('net', false, '22.11.0'), 'cluster');
    assert.equal(chooseMode('net', false, '22.12.0'), 'reuseport');
    assert.equal(chooseMode('net', false, '23.0.0'), 'cluster');
    assert.equal(chooseMode('net', false, '23.1.0'), 'reuseport');
    assert.equal(chooseMode('net', false, '24.21.0'), 'reuseport');
    assert.equal(netHasReusePort('20.20.2'), false);
  });

  it('refuses a Unix socket path', () => {
    assert.throws(() => chooseMode('net', true, '20.20.2'), /TCP addresses only/);
    assert.throws(() => chooseMode('native', true), /TCP addresses only/);
  });
});

describe('capacity', () => {
  it('reads the soft open-file limit and keeps a reserve per worker', () => {
    const limits = [
      'Limit                     Soft Limit           Hard Limit           Units',
      'Max open files            20000                20000                files',
    ].join('\n');
    assert.equal(openFileLimit(limits), 20_000);
    assert.equal(openFileLimit('nothing here'), Number.POSITIVE_INFINITY);
    assert.equal(groupCapacity(6, 20_000), 6 * (20_000 - FD_RESERVE));
  });
});

describe('the primary’s flags', () => {
  it('are taken out of the workers’ command line, in both spellings', () => {
    assert.deepEqual(
      withoutPrimaryFlags([
        '--workers',
        '4',
        '--port',
        '7000',
        '--metrics-port=9464',
        '--metrics-host',
        '0.0.0.0',
        '--framing',
        'line',
      ]),
      ['--port', '7000', '--framing', 'line'],
    );
  });
});
