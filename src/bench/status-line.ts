/**
 * The live status of a run on stderr: on a terminal one line rewritten in place every second;
 * otherwise (CI logs, pipes) a plain line every second. Elapsed time, connections up, messages
 * per second over the last second, errors so far, and the window's p99 so far.
 */
import type { LatencyHistogram } from './histogram.js';
import type { Phase } from './mode-run.js';
import { formatCount, formatLatency } from './report.js';

/** Period of the status line, in milliseconds. */
const STATUS_INTERVAL_MS = 1000;

/** What the status line shows, sampled once per period. */
export interface StatusSample {
  readonly phase: Phase;
  readonly up: number;
  /** Completions since the start: the line shows their rate. */
  readonly completed: number;
  readonly errors: number;
  readonly histogram: LatencyHistogram;
}

/** Where the status line goes: a stream that may be a terminal. */
export interface StatusStream {
  readonly isTTY?: boolean;
  write(text: string): unknown;
}

/** The live status of one run. */
export class StatusLine {
  readonly #stream: StatusStream;
  readonly #sample: () => StatusSample;
  readonly #startedAt = performance.now();
  #timer: NodeJS.Timeout | undefined;
  #lastCompleted = 0;
  #lastAt = this.#startedAt;
  #drawn = false;

  constructor(stream: StatusStream, sample: () => StatusSample) {
    this.#stream = stream;
    this.#sample = sample;
  }

  start(): void {
    this.#timer = setInterval(this.#tick, STATUS_INTERVAL_MS);
    this.#timer.unref();
  }

  /** Stops updating and, on a terminal, erases the line. Idempotent. */
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    if (this.#drawn && this.#stream.isTTY === true) this.#stream.write('\r\x1b[2K');
    this.#drawn = false;
  }

  readonly #tick = (): void => {
    const now = performance.now();
    const sample = this.#sample();
    const seconds = (now - this.#lastAt) / 1000;
    const rate = seconds > 0 ? (sample.completed - this.#lastCompleted) / seconds : 0;
    this.#lastCompleted = sample.completed;
    this.#lastAt = now;
    const p99 =
      sample.histogram.count === 0 ? '-' : formatLatency(sample.histogram.percentileNs(99) / 1000);
    const elapsed = ((now - this.#startedAt) / 1000).toFixed(1).padStart(6);
    const line =
      `${elapsed} s  ${sample.phase.padEnd(10)} up ${formatCount(sample.up)}  ` +
      `msgs/s ${formatCount(Math.round(rate))}  errors ${formatCount(sample.errors)}  p99 ${p99}`;
    if (this.#stream.isTTY === true) {
      this.#stream.write(`\r\x1b[2K${line}`);
      this.#drawn = true;
    } else {
      this.#stream.write(`${line}\n`);
    }
  };
}
