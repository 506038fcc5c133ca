/**
 * What every mode shares: a pool of connections, a recorder for the measured window, the
 * phases shown by the live status line, and bounded sleeps that a stop cuts short.
 *
 * A mode subclasses {@link ModeRun}, answers the pool's hooks, and sequences its phases in
 * {@link ModeRun.run}; every wait in a run has a deadline, so a run always ends by itself.
 */
import type { BenchConnection } from './connection.js';
import { totalErrors } from './error-kinds.js';
import type { LatencyHistogram } from './histogram.js';
import type { RunPlan } from './options.js';
import { ConnectionPool, type PoolHooks } from './pool.js';
import { Recorder } from './recorder.js';
import type { ProcessResult } from './summary.js';

/** What a run is doing, for the live status line. */
export type Phase = 'connecting' | 'verifying' | 'warmup' | 'measuring' | 'holding' | 'done';

/** A live view of one process's run. */
export interface Progress {
  readonly phase: Phase;
  /** Connections up now. */
  readonly up: number;
  /** Completions since the start, warm-up included. */
  readonly completed: number;
  /** Errors since the start. */
  readonly errors: number;
  /** The window's latency histogram so far (live: it keeps growing). */
  readonly histogram: LatencyHistogram;
}

/**
 * Extra time a whole connect phase may take beyond pacing and one timeout, in milliseconds:
 * covers the sweep's granularity and the event loop's lateness.
 */
const CONNECT_SLACK_MS = 500;

/** Period of the checks of a bounded wait on a condition, in milliseconds. */
const POLL_MS = 10;

/** The base of every mode. */
export abstract class ModeRun implements PoolHooks {
  protected readonly plan: RunPlan;
  protected readonly pool: ConnectionPool;
  protected readonly recorder = new Recorder();
  /** False once the run is over or stopped: no new sends, no reconnects. */
  protected running = true;
  #phase: Phase = 'connecting';
  #wakers = new Set<() => void>();

  constructor(plan: RunPlan) {
    this.plan = plan;
    this.pool = new ConnectionPool(plan, this);
  }

  /** Runs every phase; resolves with this process's result. */
  abstract run(): Promise<ProcessResult>;

  abstract onConnected(connection: BenchConnection, now: number): void;
  abstract onReply(connection: BenchConnection, now: number): void;
  abstract onFailure(connection: BenchConnection): void;

  /** Cuts the run short: pending waits end now, the result keeps what was measured. */
  stop(): void {
    this.running = false;
    for (const wake of this.#wakers) wake();
  }

  /** A live view of the run. */
  progress(): Progress {
    return {
      phase: this.#phase,
      up: this.pool.up,
      completed: this.recorder.completed,
      errors: totalErrors(this.pool.errors),
      histogram: this.recorder.histogram,
    };
  }

  protected set phase(phase: Phase) {
    this.#phase = phase;
  }

  /**
   * When the connect phase must be over however the server behaves (`performance.now()` ms):
   * the pacing of every connect, then one timeout for the last, plus slack.
   */
  protected connectDeadline(start: number): number {
    const pacingMs = (this.plan.connections * 1000) / this.plan.connectRate;
    return start + pacingMs + this.plan.timeoutMs + CONNECT_SLACK_MS;
  }

  /** Resolves at `time` (`performance.now()` ms), or at once when stopped. */
  protected sleepUntil(time: number): Promise<void> {
    if (!this.running) return Promise.resolve();
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const wake = (): void => {
        clearTimeout(timer);
        this.#wakers.delete(wake);
        resolve();
      };
      // Timers run on the event loop's cached millisecond clock and may fire a fraction of a
      // millisecond early: sleep again until the precise clock has reached `time`.
      const check = (): void => {
        const left = time - performance.now();
        if (left <= 0) wake();
        else timer = setTimeout(check, Math.ceil(left));
      };
      this.#wakers.add(wake);
      check();
    });
  }

  /** Resolves once `condition()` holds, at `deadline`, or when stopped, whichever comes first. */
  protected async waitFor(condition: () => boolean, deadline: number): Promise<void> {
    while (this.running && !condition() && performance.now() < deadline) {
      await this.sleepUntil(Math.min(deadline, performance.now() + POLL_MS));
    }
  }

  /** Stops everything and builds the result. */
  protected finish(fields: {
    connected: number;
    connectMs: number;
    verifyMs?: number;
    held?: number;
  }): ProcessResult {
    const now = performance.now();
    this.running = false;
    this.#phase = 'done';
    this.recorder.closeAt(now);
    this.pool.stop();
    return {
      mode: this.plan.mode,
      connections: this.plan.connections,
      connected: fields.connected,
      windowMs: this.recorder.elapsedMs(now),
      messages: this.recorder.messages,
      errors: { ...this.pool.errors },
      histogram: this.recorder.histogram.encode(),
      held: fields.held ?? 0,
      connectMs: fields.connectMs,
      verifyMs: fields.verifyMs ?? 0,
    };
  }
}
