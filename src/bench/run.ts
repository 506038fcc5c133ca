/**
 * Runs one process's share of a benchmark: picks the mode, and knows how long the run may take
 * at most, so that callers (the CLI, a worker, a parent waiting for its workers) can enforce it.
 */
import { ChurnRun } from './churn.js';
import { HoldRun } from './hold.js';
import type { ModeRun } from './mode-run.js';
import type { RunPlan } from './options.js';
import { PingPongRun } from './pingpong.js';
import { RateRun } from './rate.js';

/**
 * Time a run may overrun its computed bound before it is cut, in milliseconds: the event loop
 * lateness, the closing of every socket and, for workers, process start-up.
 */
export const RUN_GRACE_MS = 5000;

/** A run of one process's plan, not started yet: call `run()`, and `stop()` to cut it short. */
export function createRun(plan: RunPlan): ModeRun {
  switch (plan.mode) {
    case 'pingpong':
      return new PingPongRun(plan);
    case 'rate':
      return new RateRun(plan);
    case 'hold':
      return new HoldRun(plan);
    case 'churn':
      return new ChurnRun(plan);
  }
}

/**
 * The longest a run of `plan` takes, in milliseconds, however the server behaves: connecting
 * (pacing plus one timeout), verifying (hold), warm-up and the window. {@link RUN_GRACE_MS}
 * is not included.
 */
export function runBoundMs(plan: RunPlan): number {
  const connectMs = (plan.connections * 1000) / plan.connectRate + plan.timeoutMs + 1000;
  const verifyMs = plan.mode === 'hold' ? plan.timeoutMs * 1.1 : 0;
  return connectMs + verifyMs + plan.warmupMs + plan.durationMs;
}
