/**
 * The `aionet bench` command line: defaults, framing of message and reply, and every bad flag
 * rejected with an `InvalidArgumentError` (which the command turns into exit status 2).
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parseBenchArgs, unescapeText } from '../../src/bench/args.js';
import { openFileLimit } from '../../src/bench/host-limits.js';
import type { BenchOptions } from '../../src/bench/options.js';
import { InvalidArgumentError } from '../../src/errors.js';

function options(args: string[]): BenchOptions {
  const parsed = parseBenchArgs(args);
  if (parsed.kind !== 'run') throw new Error('expected a run');
  return parsed.options;
}

describe('parseBenchArgs', () => {
  test('defaults: the chapter server on 127.0.0.1:7000, one connection, 10 s after 1 s', () => {
    const o = options([]);
    assert.equal(o.mode, 'pingpong');
    assert.deepEqual(o.target, { kind: 'tcp', host: '127.0.0.1', port: 7000 });
    assert.equal(o.connections, 1);
    assert.equal(o.durationMs, 10_000);
    assert.equal(o.warmupMs, 1000);
    assert.equal(o.timeoutMs, 5000);
    assert.equal(o.framing, 'none');
    assert.equal(o.message.toString(), 'hello\n');
    assert.equal(o.reply.exact?.toString(), 'Message received');
    assert.equal(o.reply.size, 16);
    assert.equal(o.processes, 1);
    assert.equal(o.sources, 0);
    assert.equal(o.send, true);
    assert.deepEqual(o.assertions, []);
  });

  test('--help asks for the usage text', () => {
    assert.deepEqual(parseBenchArgs(['--help']), { kind: 'help' });
    assert.deepEqual(parseBenchArgs(['-h', '--port', 'x']), { kind: 'help' });
  });

  test('short flags and values', () => {
    const o = options(['-c', '100', '-d', '2.5', '-w', '0', '--port', '7100', '--json', '-q']);
    assert.equal(o.connections, 100);
    assert.equal(o.durationMs, 2500);
    assert.equal(o.warmupMs, 0);
    assert.equal(o.json, true);
    assert.equal(o.quiet, true);
  });

  test('line framing terminates the message and the expected reply', () => {
    const o = options(['--framing', 'line', '--message', 'hi', '--expect', 'ok']);
    assert.equal(o.message.toString(), 'hi\n');
    assert.equal(o.reply.exact?.toString(), 'ok\n');
    const bytes = options(['--framing', 'line', '--expect-bytes', '5']).reply;
    assert.deepEqual([bytes.size, bytes.exact, bytes.lineTerminated], [6, undefined, true]);
  });

  test('length framing prefixes a 4-byte big-endian length', () => {
    const o = options(['--framing', 'length', '--message', 'abc', '--expect', 'xy']);
    assert.equal(o.message.toString('hex'), '00000003616263');
    assert.equal(o.reply.exact?.toString('hex'), '000000027879');
    assert.equal(
      options(['--framing', 'length', '--expect-bytes', '258']).reply.prefix?.toString('hex'),
      '00000102',
    );
  });

  test('--message-file sends the file as is', () => {
    const file = join(tmpdir(), `aionet-bench-msg-${process.pid}`);
    writeFileSync(file, Buffer.from([0, 1, 2, 0x0a]));
    assert.deepEqual([...options(['--message-file', file]).message], [0, 1, 2, 0x0a]);
  });

  test('rate, hold, sources, localhost and socket paths', () => {
    assert.equal(options(['--mode', 'rate', '--rate', '5000']).rate, 5000);
    const hold = options(['--mode', 'hold', '--no-send', '-w', '3']);
    assert.equal(hold.send, false);
    assert.equal(hold.warmupMs, 0);
    assert.equal(options(['--sources', '4']).sources, 4);
    assert.deepEqual(options(['--host', 'localhost']).target, {
      kind: 'tcp',
      host: '127.0.0.1',
      port: 7000,
    });
    assert.deepEqual(options(['--path', '/tmp/s.sock']).target, {
      kind: 'unix',
      path: '/tmp/s.sock',
    });
    assert.equal(options(['--host', '::1']).sources, 0);
  });

  test('rejects more connections per process than its open-file limit allows', (t) => {
    const limit = openFileLimit();
    if (!Number.isFinite(limit) || limit > 1_000_000) {
      t.skip('no open-file limit here');
      return;
    }
    assert.throws(() => parseBenchArgs(['-c', String(limit)]), InvalidArgumentError);
    const split = ['-c', String(limit), '--processes', '2'];
    assert.equal(options(split).connections, limit);
  });

  test('many connections spread over source addresses by themselves', () => {
    assert.ok(options(['-c', '40000', '--processes', '4']).sources >= 2);
  });

  const bad: [string[], string][] = [
    [['--bogus'], 'an unknown flag'],
    [['extra'], 'a positional argument'],
    [['--port'], 'a missing value'],
    [['--mode', 'flood'], 'an unknown mode'],
    [['--framing', 'xml'], 'an unknown framing'],
    [['--connections', '0'], 'zero connections'],
    [['--connections', '1.5'], 'fractional connections'],
    [['--connections', 'many'], 'non-numeric connections'],
    [['--port', '70000'], 'a port out of range'],
    [['--duration', '0'], 'a zero duration'],
    [['--duration', '-1'], 'a negative duration'],
    [['--duration', '100000'], 'an unbounded duration'],
    [['--warmup', 'x'], 'a non-numeric warm-up'],
    [['--timeout', '0'], 'a zero timeout'],
    [['--host', '10.0.0.1'], 'a non-loopback host'],
    [['--host', 'example.com'], 'a host name'],
    [['--path', '/tmp/s', '--port', '1'], '--path with --port'],
    [['--mode', 'rate'], 'rate mode without --rate'],
    [['--rate', '10'], '--rate outside rate mode'],
    [['--mode', 'rate', '--rate', '0'], 'a zero rate'],
    [['--no-send'], '--no-send outside hold mode'],
    [['--message', 'a', '--message-file', 'f'], 'two messages'],
    [['--message', ''], 'an empty message'],
    [['--message-file', '/nonexistent/aionet'], 'an unreadable message file'],
    [['--expect', 'a', '--expect-bytes', '1'], 'two expectations'],
    [['--expect-bytes', '0'], 'an empty expected reply'],
    [['--framing', 'line', '--message', 'a\\nb'], 'a two-line message in line framing'],
    [['--processes', '3', '-c', '2'], 'more processes than connections'],
    [['--processes', '0'], 'zero processes'],
    [['--sources', '300'], 'too many source addresses'],
    [['--host', '::1', '--sources', '2'], 'sources with an IPv6 target'],
    [['--assert', 'p99<10'], 'an assertion without its unit'],
    [['--assert', 'held>1'], 'an assertion on a metric of another mode'],
  ];
  for (const [args, why] of bad) {
    test(`rejects ${why}: ${args.join(' ')}`, () => {
      assert.throws(() => parseBenchArgs(args), InvalidArgumentError);
    });
  }
});

describe('unescapeText', () => {
  test('decodes the C escapes and leaves other backslashes', () => {
    assert.deepEqual(
      [...unescapeText('a\\n\\r\\t\\0\\\\\\x41\\q\\x4')],
      [0x61, 0x0a, 0x0d, 0x09, 0x00, 0x5c, 0x41, 0x5c, 0x71, 0x5c, 0x78, 0x34],
    );
    assert.equal(unescapeText('é').toString(), 'é');
    assert.equal(unescapeText('trailing\\').toString(), 'trailing\\');
  });
});
