/**
 * Options of a worker group (`serveWorkers`, `aionet serve --workers`): how many workers, how
 * long they drain, and how a crashed one is restarted. Every number has its default here.
 */
import { availableParallelism } from 'node:os';
import { DEFAULT_DRAIN_TIMEOUT_MS } from '../constants.js';
import { InvalidArgumentError } from '../errors.js';

/** How crashed workers come back. */
export interface RestartPolicy {
  /** Milliseconds before the first restart of a slot; doubled for each further crash. @default 100 */
  readonly backoffMs?: number;
  /** Longest wait between two restarts of a slot, in milliseconds. @default 10000 */
  readonly maxBackoffMs?: number;
  /**
   * Crashes of one slot within `windowMs` that make it a crash loop: the slot is reported and
   * not restarted again. When every slot has stopped, the group exits non-zero.
   * @default 5
   */
  readonly crashLoopLimit?: number;
  /** The crash-loop window, in milliseconds: older crashes are forgotten. @default 60000 */
  readonly windowMs?: number;
}

/** A restart policy with every default filled in. */
export type ResolvedRestartPolicy = Required<RestartPolicy>;

/** First restart delay, in ms: long enough not to spin, short enough to go unnoticed. */
export const DEFAULT_RESTART_BACKOFF_MS = 100;
/** Longest restart delay, in ms: a slot that keeps crashing retries every 10 s at worst. */
export const DEFAULT_RESTART_MAX_BACKOFF_MS = 10_000;
/** Crashes within the window that stop a slot's restarts (supervisors commonly use 5). */
export const DEFAULT_CRASH_LOOP_LIMIT = 5;
/** The crash-loop window, in ms. */
export const DEFAULT_CRASH_LOOP_WINDOW_MS = 60_000;
/**
 * Milliseconds a worker may take from fork to listening before it counts as failed: module
 * loading and the native addon take well under a second; this leaves room for a loaded machine.
 */
export const DEFAULT_START_TIMEOUT_MS = 30_000;
/**
 * Milliseconds a draining worker gets beyond its drain timeout to report and exit before it is
 * killed: its last FINs, the final report, and process teardown.
 */
export const EXIT_GRACE_MS = 5_000;

/** Settings shared by the library and the CLI. */
export interface GroupSettings {
  /** Worker processes: a count, or `'auto'` for one per CPU the process may use. @default 'auto' */
  readonly workers?: number | 'auto';
  /** Milliseconds busy connections get to finish when a worker drains. @default 10000 */
  readonly drainTimeout?: number;
  /** How crashed workers come back. */
  readonly restart?: RestartPolicy;
  /** Milliseconds a worker may take to start listening. @default 30000 */
  readonly startTimeout?: number;
}

/** The number of workers `workers` means on this machine. */
export function resolveWorkerCount(workers: number | 'auto' | undefined): number {
  if (workers === undefined || workers === 'auto') return availableParallelism();
  if (!(Number.isInteger(workers) && workers >= 1 && workers <= MAX_WORKERS)) {
    throw new InvalidArgumentError(
      `workers must be 'auto' or a whole number from 1 to ${MAX_WORKERS}, got ${workers}`,
    );
  }
  return workers;
}

/** Most workers in a group: far past any core count, low enough to catch a typo. */
export const MAX_WORKERS = 256;

/** The policy with its defaults. @throws InvalidArgumentError for a negative or odd value. */
export function resolveRestartPolicy(policy: RestartPolicy = {}): ResolvedRestartPolicy {
  const resolved = {
    backoffMs: policy.backoffMs ?? DEFAULT_RESTART_BACKOFF_MS,
    maxBackoffMs: policy.maxBackoffMs ?? DEFAULT_RESTART_MAX_BACKOFF_MS,
    crashLoopLimit: policy.crashLoopLimit ?? DEFAULT_CRASH_LOOP_LIMIT,
    windowMs: policy.windowMs ?? DEFAULT_CRASH_LOOP_WINDOW_MS,
  };
  for (const [name, value] of Object.entries(resolved)) {
    if (!(Number.isFinite(value) && value >= 0)) {
      throw new InvalidArgumentError(`restart.${name} must be a number >= 0, got ${value}`);
    }
  }
  if (!(Number.isInteger(resolved.crashLoopLimit) && resolved.crashLoopLimit >= 1)) {
    throw new InvalidArgumentError(
      `restart.crashLoopLimit must be a whole number >= 1, got ${resolved.crashLoopLimit}`,
    );
  }
  return resolved;
}

/** The drain timeout with its default. @throws InvalidArgumentError unless a number >= 0. */
export function resolveDrainTimeout(drainTimeout: number | undefined): number {
  const value = drainTimeout ?? DEFAULT_DRAIN_TIMEOUT_MS;
  if (!(Number.isFinite(value) && value >= 0)) {
    throw new InvalidArgumentError(`drainTimeout must be a number of ms >= 0, got ${value}`);
  }
  return value;
}
