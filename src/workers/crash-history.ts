/**
 * The crash record of one worker slot: when to restart after a crash (exponential back-off) and
 * when the crashes make a loop that stops restarts. Pure: times come from the caller.
 */
import type { ResolvedRestartPolicy } from './options.js';

/** What to do after a crash. */
export type CrashVerdict =
  | { readonly restart: true; readonly delayMs: number; readonly crashes: number }
  | { readonly restart: false; readonly crashes: number };

/** One slot's crashes within the policy's window. */
export class CrashHistory {
  readonly #policy: ResolvedRestartPolicy;
  /** Times of the crashes still in the window, oldest first. */
  readonly #times: number[] = [];
  #total = 0;

  constructor(policy: ResolvedRestartPolicy) {
    this.#policy = policy;
  }

  /** Crashes ever recorded. */
  get total(): number {
    return this.#total;
  }

  /**
   * Records a crash at `now` (ms). The n-th crash within the window waits
   * `backoffMs × 2^(n−1)`, at most `maxBackoffMs`; the `crashLoopLimit`-th stops restarts.
   */
  record(now: number): CrashVerdict {
    this.#total++;
    const since = now - this.#policy.windowMs;
    while (this.#times.length > 0 && this.#times[0]! <= since) this.#times.shift();
    this.#times.push(now);
    const crashes = this.#times.length;
    if (crashes >= this.#policy.crashLoopLimit) return { restart: false, crashes };
    const delayMs = Math.min(
      this.#policy.maxBackoffMs,
      this.#policy.backoffMs * 2 ** (crashes - 1),
    );
    return { restart: true, delayMs, crashes };
  }
}
