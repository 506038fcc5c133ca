/**
 * `TestClock`: a `Clock` whose time moves only when a test says so. Timers fire inside
 * `advance(ms)`, in due order, each seeing `now()` equal to its own due time, so a test of an
 * idle timeout reads as "advance 29 999 ms: still open; advance 1 ms: closed".
 */
import { type Clock, checkDelay, type TimerHandle } from '../clock.js';
import { InvalidArgumentError } from '../errors.js';

/**
 * Timers one `advance` may fire before it gives up: a timer that re-arms itself with a delay of
 * 0 would otherwise spin forever inside a test. Far more than any real test schedules.
 */
const MAX_TIMERS_PER_ADVANCE = 100_000;

interface Timer {
  readonly due: number;
  /** Order of scheduling: breaks ties between timers due at the same time. */
  readonly seq: number;
  readonly fn: () => void;
}

/** A manual clock for tests. Starts at `start` milliseconds (0 by default). */
export class TestClock implements Clock {
  #now: number;
  #seq = 0;
  /** Pending timers, sorted by due time, then by scheduling order. */
  #timers: Timer[] = [];

  constructor(start = 0) {
    if (!Number.isFinite(start)) {
      throw new InvalidArgumentError(`a TestClock starts at a finite time, got ${start}`);
    }
    this.#now = start;
  }

  /** The current test time in milliseconds. */
  now(): number {
    return this.#now;
  }

  /** Schedule `fn` for `now() + ms`. It fires during a later `advance`, never synchronously. */
  setTimeout(fn: () => void, ms: number): TimerHandle {
    checkDelay(ms);
    if (typeof fn !== 'function') throw new InvalidArgumentError('setTimeout() needs a function');
    const timer: Timer = { due: this.#now + ms, seq: this.#seq++, fn };
    const timers = this.#timers;
    // Insert after every timer due at the same time or earlier: ties fire in scheduling order.
    let index = timers.length;
    while (index > 0 && timers[index - 1]!.due > timer.due) index--;
    timers.splice(index, 0, timer);
    return {
      cancel: () => {
        const at = this.#timers.indexOf(timer);
        if (at !== -1) this.#timers.splice(at, 1);
      },
    };
  }

  /**
   * Move time forward by `ms`, firing every timer that falls due on the way (including timers
   * those timers set, when they fall within the window). Returns how many fired.
   *
   * A timer that throws stops the advance: the error propagates, time stays at that timer's due
   * time, and the timers after it are still pending.
   * @throws InvalidArgumentError unless `ms` is a finite number `>= 0`.
   */
  advance(ms: number): number {
    checkDelay(ms);
    const target = this.#now + ms;
    let fired = 0;
    for (;;) {
      const next = this.#timers[0];
      if (next === undefined || next.due > target) break;
      if (++fired > MAX_TIMERS_PER_ADVANCE) {
        throw new Error(
          `TestClock.advance(${ms}) fired over ${MAX_TIMERS_PER_ADVANCE} timers: a timer re-arms forever`,
        );
      }
      this.#timers.shift();
      this.#now = next.due;
      next.fn();
    }
    this.#now = target;
    return fired;
  }

  /** Advance exactly to the next pending timer and fire it (and any due with it). */
  runNext(): number {
    const next = this.#timers[0];
    return next === undefined ? 0 : this.advance(next.due - this.#now);
  }

  /** How many timers are pending. */
  pendingTimers(): number {
    return this.#timers.length;
  }

  /** When the next pending timer is due, or `undefined` when none is. */
  nextDue(): number | undefined {
    return this.#timers[0]?.due;
  }
}
