/**
 * The operations flags of `aionet serve`, parsed: defaults, units, and a usage error naming the
 * flag for every bad value.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseOperations } from '../../src/cli/operations-flags.js';
import { UsageError } from '../../src/cli/usage.js';

describe('parseOperations', () => {
  it('defaults: library defaults for the limits, 10 s drain, text at info, no metrics', () => {
    assert.deepEqual(parseOperations({}), {
      serverOptions: {},
      drainTimeout: 10_000,
      logFormat: 'text',
      logLevel: 'info',
      metrics: undefined,
    });
  });

  it('seconds become milliseconds; a positive value never rounds down to off', () => {
    const settings = parseOperations({
      'max-connections': '100',
      'reject-message': 'busy\n',
      'idle-timeout': '1.5',
      'max-write-buffer': '65536',
      'write-stall-timeout': '0.0001',
      'drain-timeout': '0',
      'log-format': 'json',
      'log-level': 'debug',
      'metrics-port': '0',
    });
    assert.deepEqual(settings, {
      serverOptions: {
        maxConnections: 100,
        rejectMessage: 'busy\n',
        idleTimeout: 1500,
        maxWriteBuffer: 65536,
        writeStallTimeout: 1,
      },
      drainTimeout: 0,
      logFormat: 'json',
      logLevel: 'debug',
      metrics: { port: 0, host: '127.0.0.1' },
    });
    assert.equal(parseOperations({ 'idle-timeout': '0' }).serverOptions.idleTimeout, 0);
    assert.deepEqual(parseOperations({ 'metrics-port': '9464', 'metrics-host': '::1' }).metrics, {
      port: 9464,
      host: '::1',
    });
  });

  it('every bad value is a usage error naming its flag', () => {
    const cases: [string, string][] = [
      ['max-connections', '0'],
      ['max-connections', 'many'],
      ['max-connections', '-3'],
      ['idle-timeout', '-1'],
      ['idle-timeout', 'soon'],
      ['idle-timeout', ''],
      ['write-stall-timeout', '1e12'],
      ['write-stall-timeout', 'Infinity'],
      ['max-write-buffer', '1.5'],
      ['max-write-buffer', '0'],
      ['drain-timeout', ''],
      ['drain-timeout', 'NaN'],
      ['log-format', 'xml'],
      ['log-level', 'loud'],
      ['metrics-port', '70000'],
      ['metrics-port', 'http'],
    ];
    for (const [flag, value] of cases) {
      assert.throws(
        () => parseOperations({ [flag]: value }),
        (error: unknown) => error instanceof UsageError && error.message.startsWith(`--${flag} `),
        `--${flag} ${value}`,
      );
    }
  });

  it('flags that need another one', () => {
    assert.throws(
      () => parseOperations({ 'reject-message': 'bye' }),
      /--reject-message needs --max-connections/,
    );
    assert.throws(
      () => parseOperations({ 'metrics-host': '0.0.0.0' }),
      /--metrics-host needs --metrics-port/,
    );
    assert.throws(
      () => parseOperations({ 'metrics-port': '0', 'metrics-host': '' }),
      /--metrics-host must not be empty/,
    );
  });
});
