/**
 * The kit's split generators: which cuts each family yields, the bounds and the sampling, and
 * how replaySplits names the split that failed.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidArgumentError } from '../../src/errors.js';
import { everySplit, replaySplits, type Split } from '../../src/testing/index.js';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz';

function all(...args: Parameters<typeof everySplit>): Split[] {
  return [...everySplit(...args)];
}

function byKind(splits: readonly Split[], kind: Split['kind']): Split[] {
  return splits.filter((split) => split.kind === kind);
}

describe('everySplit', () => {
  it('every split puts the input back together, and no two cut it the same way', () => {
    for (const input of ['a', 'ab', 'hello', ALPHABET, ['GET ', '/ ', 'HTTP/1.1\r\n']]) {
      const splits = all(input, { random: 8 });
      const whole = Array.isArray(input) ? input.join('') : input;
      const keys = new Set<string>();
      for (const split of splits) {
        assert.equal(Buffer.concat(split.chunks).toString(), whole, split.label);
        assert.ok(
          split.chunks.every((chunk) => chunk.length > 0),
          split.label,
        );
        assert.equal(split.chunks.length, split.cuts.length + 1, split.label);
        keys.add(split.cuts.join(','));
      }
      assert.equal(keys.size, splits.length);
    }
  });

  it('whole first, then each single cut, each pair of cuts, one byte at a time', () => {
    const splits = all('abcde', { random: 0 });
    assert.deepEqual(splits[0]?.chunks.map(String), ['abcde']);
    assert.deepEqual(
      byKind(splits, 'single').map((split) => split.cuts),
      [[1], [2], [3], [4]],
    );
    assert.deepEqual(
      byKind(splits, 'pair').map((split) => split.cuts),
      [
        [1, 2],
        [1, 3],
        [1, 4],
        [2, 3],
        [2, 4],
        [3, 4],
      ],
    );
    assert.deepEqual(byKind(splits, 'bytewise')[0]?.chunks.map(String), ['a', 'b', 'c', 'd', 'e']);
    assert.equal(splits.length, 1 + 4 + 6 + 1);
  });

  it('every coalescing of messages: each boundary kept or merged', () => {
    const splits = byKind(all(['a', 'bb', 'c', 'dd'], { random: 0 }), 'coalesce');
    // 2^3 coalescings, less the one with no boundary kept (that is `whole`).
    assert.equal(splits.length, 7);
    const labels = splits.map((split) => split.label);
    assert.ok(labels.includes('coalesce (0)(1)(2)(3)'));
    assert.ok(labels.includes('coalesce (0 1)(2 3)'));
    const kept = splits.find((split) => split.label === 'coalesce (0)(1 2)(3)');
    assert.deepEqual(kept?.chunks.map(String), ['a', 'bbc', 'dd']);
  });

  it('yields fresh copies: a receiver may change what it got', () => {
    const seen: string[] = [];
    for (const split of everySplit('abc', { random: 0 })) {
      seen.push(Buffer.concat(split.chunks).toString());
      for (const chunk of split.chunks) chunk.fill(0);
    }
    assert.ok(seen.every((text) => text === 'abc'));
  });

  it('stays bounded on large inputs, with edge cuts kept and the sampling seeded', () => {
    const big = Buffer.alloc(10_000, 7);
    const splits = all(big, { limit: 100, random: 5 });
    const singles = byKind(splits, 'single');
    assert.equal(singles.length, 100);
    assert.equal(singles[0]?.cuts[0], 1);
    assert.equal(singles.at(-1)?.cuts[0], 9_999);
    assert.equal(byKind(splits, 'pair').length, 100);
    assert.equal(byKind(splits, 'bytewise').length, 1);
    assert.ok(byKind(splits, 'random').length <= 5);
    const again = all(big, { limit: 100, random: 5 }).map((split) => split.label);
    assert.deepEqual(
      again,
      splits.map((split) => split.label),
    );
    const other = all(big, { limit: 100, random: 5, seed: 2 }).map((split) => split.label);
    assert.notDeepEqual(
      other,
      splits.map((split) => split.label),
    );
  });

  it('samples the coalescings of many messages', () => {
    const messages = Array.from({ length: 20 }, (_, i) => `m${i};`);
    const splits = byKind(all(messages, { limit: 50, random: 0 }), 'coalesce');
    assert.ok(splits.length > 40 && splits.length <= 50);
  });

  it('an empty input is one split with no chunk', () => {
    assert.deepEqual(all(''), [{ kind: 'whole', cuts: [], chunks: [], label: 'whole' }]);
  });

  it('refuses bad options and values that are not bytes', () => {
    assert.throws(() => all('ab', { limit: -1 }), InvalidArgumentError);
    assert.throws(() => all('ab', { random: 1.5 }), InvalidArgumentError);
    assert.throws(() => all([42 as unknown as string]), InvalidArgumentError);
  });
});

describe('replaySplits', () => {
  it('runs the check on every split and says how many', () => {
    let runs = 0;
    const count = replaySplits(
      'abc',
      (chunks) => {
        runs++;
        assert.equal(Buffer.concat(chunks).toString(), 'abc');
      },
      { random: 0 },
    );
    assert.equal(count, runs);
    assert.equal(count, 1 + 2 + 1 + 0);
  });

  it('names the split that failed and keeps the original error as the cause', () => {
    const failure = new Error('boom');
    assert.throws(
      () =>
        replaySplits('abcd', (_chunks, split) => {
          if (split.label === 'cut at 2') throw failure;
        }),
      (error: Error) =>
        error.message === 'split "cut at 2" failed: boom' && error.cause === failure,
    );
  });
});
