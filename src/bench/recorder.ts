/**
 * The recorder of one process: the measured window and what falls inside it. A completion
 * counts when it happens inside `[start, end)`; everything before (connecting, warm-up) and
 * after is seen by the live status line only.
 */
import { LatencyHistogram } from './histogram.js';

/** The measured window of one process. Times are `performance.now()` milliseconds. */
export class Recorder {
  readonly histogram = new LatencyHistogram();
  /** Completions inside the window. */
  messages = 0;
  /** Completions over the whole run, for the live status line. */
  completed = 0;
  #start = Number.POSITIVE_INFINITY;
  #end = Number.POSITIVE_INFINITY;

  /** Opens the window at `start` for `durationMs`. */
  open(start: number, durationMs: number): void {
    this.#start = start;
    this.#end = start + durationMs;
  }

  /** Closes the window now, if it is still open: a run cut short keeps what it measured. */
  closeAt(now: number): void {
    if (now < this.#end) this.#end = Math.max(this.#start, now);
  }

  /** When the window opens, `Infinity` before {@link open}. */
  get start(): number {
    return this.#start;
  }

  /** When the window closes, `Infinity` before {@link open}. */
  get end(): number {
    return this.#end;
  }

  /** The window's length so far at `now`, in milliseconds (0 before it opens). */
  elapsedMs(now: number): number {
    if (now <= this.#start) return 0;
    return Math.min(now, this.#end) - this.#start;
  }

  /** Counts one completion at `now` and, inside the window, records its latency. */
  complete(now: number, latencyMs: number): void {
    this.completed++;
    if (now >= this.#start && now < this.#end) {
      this.messages++;
      this.histogram.recordMs(latencyMs);
    }
  }
}
