/**
 * Latency histograms: merging the encoded histograms of several processes gives exactly the
 * histogram of all their samples, whatever the samples and however they are split.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { emptyErrorCounts } from '../../src/bench/error-kinds.js';
import { HISTOGRAM_MAX_NS, LatencyHistogram } from '../../src/bench/histogram.js';
import { mergeResults, type ProcessResult } from '../../src/bench/summary.js';

/** Percentiles compared between the merged and the single histogram. */
const PERCENTILES = [0, 1, 10, 25, 50, 75, 90, 99, 99.9, 99.99, 100];

function resultOf(histogram: LatencyHistogram, messages: number): ProcessResult {
  return {
    mode: 'pingpong',
    connections: 1,
    connected: 1,
    windowMs: 1000,
    messages,
    errors: emptyErrorCounts(),
    histogram: histogram.encode(),
    held: 0,
    connectMs: 0,
    verifyMs: 0,
  };
}

/** Latencies from 1 ns to an hour, weighted toward the microseconds of loopback round trips. */
const latency = fc.oneof(
  fc.integer({ min: 1, max: 1_000_000 }),
  fc.integer({ min: 1, max: HISTOGRAM_MAX_NS }),
  fc.constantFrom(0, 1, 2047, 2048, 2049, HISTOGRAM_MAX_NS),
);

test('merging split histograms across processes equals one histogram of all samples', () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(latency, fc.integer({ min: 0, max: 5 })), { maxLength: 400 }),
      fc.integer({ min: 1, max: 6 }),
      (samples, processes) => {
        const single = new LatencyHistogram();
        const parts = Array.from({ length: processes }, () => new LatencyHistogram());
        for (const [value, part] of samples) {
          single.record(value);
          parts[part % processes]?.record(value);
        }
        const merged = mergeResults(parts.map((part) => resultOf(part, part.count))).histogram;
        assert.equal(merged.count, single.count);
        // The encoding holds every bucket's count: equal encodings, equal histograms.
        assert.equal(merged.encode(), single.encode());
        assert.equal(merged.maxNs(), single.maxNs());
        for (const p of PERCENTILES) assert.equal(merged.percentileNs(p), single.percentileNs(p));
        assert.deepEqual(merged.summary(), single.summary());
        const { p50, p90, p99, p999, max } = merged.summary();
        assert.ok(p50 <= p90 && p90 <= p99 && p99 <= p999 && p999 <= max, 'ordered, within max');
      },
    ),
    { numRuns: 200 },
  );
});

test('a histogram survives encode and decode count for count', () => {
  const histogram = new LatencyHistogram();
  for (let i = 1; i <= 10_000; i++) histogram.record(i * 997);
  const decoded = LatencyHistogram.decode(histogram.encode());
  assert.equal(decoded.count, 10_000);
  assert.equal(decoded.encode(), histogram.encode());
  assert.deepEqual(decoded.summary(), histogram.summary());
});

test('merging sums messages and errors of every process', () => {
  const a = {
    ...resultOf(new LatencyHistogram(), 10),
    errors: { ...emptyErrorCounts(), reset: 2 },
  };
  const b = {
    ...resultOf(new LatencyHistogram(), 5),
    errors: { ...emptyErrorCounts(), reset: 1, refused: 4 },
  };
  const merged = mergeResults([a, b]);
  assert.equal(merged.messages, 15);
  assert.equal(merged.errors.reset, 3);
  assert.equal(merged.errors.refused, 4);
  assert.equal(merged.msgsPerSecond, 15);
});

test('values out of range are clamped, not thrown', () => {
  const histogram = new LatencyHistogram();
  histogram.record(-5);
  histogram.record(HISTOGRAM_MAX_NS * 10);
  assert.equal(histogram.count, 2);
  assert.equal(histogram.percentileNs(0), 0);
  assert.ok(histogram.maxNs() >= HISTOGRAM_MAX_NS * 0.999);
});

test('percentiles are within 0.1 % of the recorded values, reported in microseconds', () => {
  const histogram = new LatencyHistogram();
  histogram.recordMs(1.5); // 1500 us
  const summary = histogram.summary();
  assert.ok(Math.abs(summary.p50 - 1500) <= 1.5, `p50 ${summary.p50}`);
  assert.equal(new LatencyHistogram().summary().p99, 0);
});
