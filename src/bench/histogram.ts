/**
 * The latency histogram of a run: an HDR histogram of nanoseconds that can be sent to another
 * process and merged there without losing a single count.
 *
 * Values are recorded in nanoseconds so that loopback round trips of a few microseconds keep
 * three significant digits; reports read them back in microseconds.
 */
import {
  build,
  decodeFromCompressedBase64,
  encodeIntoCompressedBase64,
  type Histogram,
} from 'hdr-histogram-js';
import { InvalidArgumentError } from '../errors.js';

/** Largest latency the histogram tracks, in nanoseconds: one hour, far above any run's length. */
export const HISTOGRAM_MAX_NS = 3_600_000_000_000;

/**
 * Significant decimal digits kept per value: 3 means every recorded value is known within
 * 0.1 %, at 8 bytes per bucket and about 33,000 buckets (270 KB) for the full range.
 */
const SIGNIFICANT_DIGITS = 3;

/**
 * Counts are 64-bit floats: exact up to 2^53, where 32-bit counts would wrap after two billion
 * samples in one bucket (an hour at 600,000 msgs/s).
 */
const BUCKET_BITS = 64;

/** The latency percentiles a report shows, in microseconds. */
export interface LatencySummary {
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

/** A latency histogram in nanoseconds. */
export class LatencyHistogram {
  readonly #histogram: Histogram;
  /**
   * The exact largest value: the HDR encoding keeps only its bucket, and a report's `max`
   * must not move by 0.1 % when it crosses a process boundary.
   */
  #maxNs = 0;

  constructor(histogram?: Histogram, maxNs = 0) {
    this.#maxNs = maxNs;
    this.#histogram =
      histogram ??
      build({
        bitBucketSize: BUCKET_BITS,
        autoResize: false,
        lowestDiscernibleValue: 1,
        highestTrackableValue: HISTOGRAM_MAX_NS,
        numberOfSignificantValueDigits: SIGNIFICANT_DIGITS,
      });
  }

  /**
   * Rebuilds a histogram sent by {@link encode}.
   *
   * @throws InvalidArgumentError when `encoded` is not such a text.
   */
  static decode(encoded: string): LatencyHistogram {
    const colon = encoded.indexOf(':');
    const maxNs = Number(encoded.slice(0, colon));
    if (colon === -1 || !Number.isSafeInteger(maxNs)) {
      throw new InvalidArgumentError('not an encoded latency histogram');
    }
    const histogram = decodeFromCompressedBase64(
      encoded.slice(colon + 1),
      BUCKET_BITS,
      false,
      HISTOGRAM_MAX_NS,
    );
    return new LatencyHistogram(histogram, maxNs);
  }

  /** How many values were recorded. */
  get count(): number {
    return this.#histogram.totalCount;
  }

  /**
   * Records one latency. Values outside `[0, HISTOGRAM_MAX_NS]` are clamped: a clock step must
   * not throw inside the hot path.
   */
  record(nanoseconds: number): void {
    const value = Math.round(nanoseconds > 0 ? Math.min(nanoseconds, HISTOGRAM_MAX_NS) : 0);
    if (value > this.#maxNs) this.#maxNs = value;
    this.#histogram.recordValue(value);
  }

  /** Records a latency given in milliseconds (as `performance.now()` differences are). */
  recordMs(milliseconds: number): void {
    this.record(milliseconds * 1e6);
  }

  /** Adds every count of `other` to this histogram. */
  add(other: LatencyHistogram): void {
    this.#histogram.add(other.#histogram);
    if (other.#maxNs > this.#maxNs) this.#maxNs = other.#maxNs;
  }

  /**
   * A compact text form holding every count exactly, what a worker process sends to its
   * parent: `<exact max in ns>:<HdrHistogram's compressed V2 encoding, base64>`.
   */
  encode(): string {
    return `${this.#maxNs}:${encodeIntoCompressedBase64(this.#histogram)}`;
  }

  /** The value at a percentile (0–100), in nanoseconds, never above the max; 0 when empty. */
  percentileNs(percentile: number): number {
    if (this.count === 0) return 0;
    // HDR answers with the top of the value's bucket, which may lie above the exact max.
    return Math.min(this.#histogram.getValueAtPercentile(percentile), this.#maxNs);
  }

  /** The largest value recorded, exactly, in nanoseconds; 0 when empty. */
  maxNs(): number {
    return this.#maxNs;
  }

  /** The report's percentiles, in microseconds rounded to 0.1 µs; zeros when empty. */
  summary(): LatencySummary {
    return {
      p50: toMicros(this.percentileNs(50)),
      p90: toMicros(this.percentileNs(90)),
      p99: toMicros(this.percentileNs(99)),
      p999: toMicros(this.percentileNs(99.9)),
      max: toMicros(this.maxNs()),
      mean: this.count === 0 ? 0 : toMicros(this.#histogram.mean),
    };
  }
}

function toMicros(nanoseconds: number): number {
  return Math.round(nanoseconds / 100) / 10;
}
