/**
 * `--assert` expressions: the grammar, units, the metrics each mode has, and the verdicts.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  checkAssertions,
  describeOutcome,
  metricValue,
  parseAssertion,
} from '../../src/bench/assertions.js';
import { emptyErrorCounts } from '../../src/bench/error-kinds.js';
import type { BenchSummary } from '../../src/bench/summary.js';
import { InvalidArgumentError } from '../../src/errors.js';

const SUMMARY: BenchSummary = {
  mode: 'pingpong',
  target: '127.0.0.1:7000',
  connections: 100,
  connected: 100,
  processes: 1,
  duration_s: 5,
  warmup_s: 1,
  messages: 500_000,
  msgs_per_s: 100_000,
  errors: 3,
  errors_by_kind: { ...emptyErrorCounts(), reset: 2, reply_timeout: 1 },
  latency_us: { p50: 800, p90: 1200, p99: 9_500, p999: 20_000, max: 31_000, mean: 900 },
};

describe('parseAssertion', () => {
  test('reads metric, operator, bound and unit', () => {
    assert.deepEqual(parseAssertion('p99<10ms', 'pingpong'), {
      text: 'p99<10ms',
      metric: 'p99',
      operator: '<',
      bound: 10_000,
    });
    assert.equal(parseAssertion('p50 <= 250us', 'pingpong').bound, 250);
    assert.equal(parseAssertion('max<1.5s', 'pingpong').bound, 1_500_000);
    assert.equal(parseAssertion('p99.9<2ms', 'pingpong').metric, 'p999');
    assert.equal(parseAssertion('msgs_per_s>50k', 'pingpong').bound, 50_000);
    assert.equal(parseAssertion('msgs_per_s>=1.5M', 'pingpong').bound, 1_500_000);
    assert.equal(parseAssertion('errors==0', 'pingpong').operator, '=');
    assert.equal(parseAssertion('errors.reset!=0', 'pingpong').metric, 'reset');
    assert.equal(parseAssertion('wrong_reply=0', 'pingpong').metric, 'wrong_reply');
    assert.equal(parseAssertion('held>=15000', 'hold').metric, 'held');
    assert.equal(parseAssertion('conns_per_s>1e3', 'churn').bound, 1000);
  });

  const bad: [string, string][] = [
    ['p99', 'no operator'],
    ['p99<', 'no number'],
    ['<10ms', 'no metric'],
    ['p99<10', 'a latency without its unit'],
    ['p99<10kg', 'an unknown unit'],
    ['errors=0ms', 'a unit on a count'],
    ['latency<1ms', 'an unknown metric'],
    ['errors.bogus=0', 'an unknown error kind'],
    ['p99<>1ms', 'a bad operator'],
    ['held>10', 'a metric of another mode'],
    ['p99<-1ms', 'a negative bound'],
  ];
  for (const [text, why] of bad) {
    test(`rejects ${why}: ${text}`, () => {
      assert.throws(() => parseAssertion(text, 'pingpong'), InvalidArgumentError);
    });
  }
});

describe('checkAssertions', () => {
  test('passes and fails on the summary values', () => {
    const texts = [
      'p99<10ms',
      'p99<9ms',
      'errors=0',
      'errors<=3',
      'msgs_per_s>50k',
      'reset=2',
      'p999>=20ms',
    ];
    const outcomes = checkAssertions(
      texts.map((text) => parseAssertion(text, 'pingpong')),
      SUMMARY,
    );
    assert.deepEqual(
      outcomes.map((outcome) => outcome.passed),
      [true, false, false, true, true, true, true],
    );
    assert.equal(outcomes[1]?.actual, 9_500);
  });

  test('every operator compares as written', () => {
    const verdict = (text: string): boolean | undefined =>
      checkAssertions([parseAssertion(text, 'pingpong')], SUMMARY)[0]?.passed;
    assert.equal(verdict('messages<500000'), false);
    assert.equal(verdict('messages<=500000'), true);
    assert.equal(verdict('messages>500000'), false);
    assert.equal(verdict('messages>=500000'), true);
    assert.equal(verdict('messages=500000'), true);
    assert.equal(verdict('messages!=500000'), false);
  });

  test('a failed outcome names the metric and its value', () => {
    const [outcome] = checkAssertions([parseAssertion('p99<9ms', 'pingpong')], SUMMARY);
    assert.ok(outcome !== undefined);
    assert.equal(describeOutcome(outcome), 'FAILED: p99<9ms (p99 = 9500 us)');
  });

  test('mode metrics read their field', () => {
    assert.equal(metricValue({ ...SUMMARY, mode: 'hold', held: 42 }, 'held'), 42);
    assert.equal(metricValue({ ...SUMMARY, mode: 'churn', conns_per_s: 7 }, 'conns_per_s'), 7);
    assert.equal(metricValue(SUMMARY, 'reply_timeout'), 1);
  });
});
