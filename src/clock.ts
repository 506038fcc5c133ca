/**
 * The Clock contract: where time-based code (idle timeouts, write-stall deadlines, retries) gets
 * "now" and schedules its timers, so tests can swap in `TestClock` from `aionet/testing` and
 * move time by hand. Nothing here imports from `node:`; `systemClock` uses the global timers.
 */
import { InvalidArgumentError } from './errors.js';

/** A scheduled call that can still be called off. */
export interface TimerHandle {
  /** Call the timer off. Idempotent; a no-op once it has fired. */
  cancel(): void;
}

/** A source of monotonic time and one-shot timers. */
export interface Clock {
  /**
   * Milliseconds since an arbitrary origin. Never goes backwards; only differences mean
   * anything (not a wall-clock date).
   */
  now(): number;

  /**
   * Call `fn` once, `ms` milliseconds from now (0 means "as soon as possible, not now": never
   * synchronously). Timers due at the same time fire in the order they were set.
   * @throws InvalidArgumentError unless `ms` is a finite number `>= 0`.
   */
  setTimeout(fn: () => void, ms: number): TimerHandle;
}

/**
 * The real clock: `performance.now()` and the global `setTimeout`. Its timers keep the process
 * alive like any other timer, so cancel them when the connection they guard goes away.
 */
export const systemClock: Clock = {
  now: () => performance.now(),
  setTimeout(fn: () => void, ms: number): TimerHandle {
    checkDelay(ms);
    const timer = setTimeout(fn, ms);
    return { cancel: () => clearTimeout(timer) };
  },
};

/**
 * Throws unless `ms` is a usable delay. Clocks share it so a bad delay is refused the same way
 * by the real clock and the test one (Node's own `setTimeout` silently turns it into 1 ms).
 * @throws InvalidArgumentError unless `ms` is a finite number `>= 0`.
 */
export function checkDelay(ms: number): void {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) {
    throw new InvalidArgumentError(`a timer delay must be a finite number >= 0 ms, got ${ms}`);
  }
}
