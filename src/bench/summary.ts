/**
 * The outcome of a run: what each process measured ({@link ProcessResult}, plain data that
 * crosses process boundaries) and the exact merge of those into the run's
 * {@link BenchSummary}, which is also the `--json` object.
 */
import { addErrorCounts, type ErrorCounts, emptyErrorCounts, totalErrors } from './error-kinds.js';
import { LatencyHistogram, type LatencySummary } from './histogram.js';
import { type BenchOptions, describeTarget, type Mode } from './options.js';

/** What one process measured. Plain data: a worker sends it to its parent as is. */
export interface ProcessResult {
  readonly mode: Mode;
  /** This process's connections. */
  readonly connections: number;
  /** Connections up when the measured window opened (hold: when holding began). */
  readonly connected: number;
  /** Actual length of the measured window (hold: of the hold), in milliseconds. */
  readonly windowMs: number;
  /** Correct replies completed inside the window (churn: completed cycles). */
  readonly messages: number;
  /** Errors over the whole run, warm-up and connecting included, by kind. */
  readonly errors: ErrorCounts;
  /** The latency histogram of the window, encoded with {@link LatencyHistogram.encode}. */
  readonly histogram: string;
  /** Hold mode: connections still open (and verified) at the end of the hold; else 0. */
  readonly held: number;
  /** Time taken to open the connections, in milliseconds. */
  readonly connectMs: number;
  /** Hold mode: time taken to verify one round trip on each connection, in milliseconds. */
  readonly verifyMs: number;
}

/** The summary of a run, as printed by `--json` (snake_case keys are part of the format). */
export interface BenchSummary {
  readonly mode: Mode;
  /** `host:port` or the socket path. */
  readonly target: string;
  /** Connections asked for, over all processes (churn: concurrent slots). */
  readonly connections: number;
  /** Connections up when the measured window opened, over all processes. */
  readonly connected: number;
  readonly processes: number;
  /** Length of the measured window (hold: of the hold), in seconds. */
  readonly duration_s: number;
  readonly warmup_s: number;
  /** Correct replies inside the window (churn: completed connect/send/reply/close cycles). */
  readonly messages: number;
  /** Messages per second over the window, summed over processes. */
  readonly msgs_per_s: number;
  /** Errors over the whole run. */
  readonly errors: number;
  readonly errors_by_kind: ErrorCounts;
  /**
   * Latency percentiles in microseconds: reply latency (rate mode: from the intended send
   * time; churn: the whole cycle from connect to reply; hold: the verifying round trip).
   */
  readonly latency_us: LatencySummary;
  /** Rate mode: the rate asked for, in messages per second. */
  readonly target_rate?: number;
  /** Hold mode: connections open (and verified, unless `--no-send`) at the end of the hold. */
  readonly held?: number;
  /** Hold mode: seconds taken to open the connections (the slowest process). */
  readonly connect_s?: number;
  /** Hold mode: seconds taken to verify one round trip on each (the slowest process). */
  readonly verify_s?: number;
  /** Churn mode: completed cycles per second. */
  readonly conns_per_s?: number;
}

/** A merge of process results: counts summed, histograms added bucket by bucket. */
export interface MergedResult {
  readonly connected: number;
  readonly messages: number;
  /** Sum over processes of each one's messages per second of its own window. */
  readonly msgsPerSecond: number;
  /** Longest window of the processes, in milliseconds. */
  readonly windowMs: number;
  readonly connectMs: number;
  readonly verifyMs: number;
  readonly held: number;
  readonly errors: ErrorCounts;
  readonly histogram: LatencyHistogram;
}

/**
 * Merges process results exactly: every histogram count and every error is kept. The rate is
 * the sum of each process's own rate, since their windows overlap but do not start together
 * to the microsecond.
 */
export function mergeResults(results: readonly ProcessResult[]): MergedResult {
  const histogram = new LatencyHistogram();
  const errors = emptyErrorCounts();
  let connected = 0;
  let messages = 0;
  let msgsPerSecond = 0;
  let windowMs = 0;
  let connectMs = 0;
  let verifyMs = 0;
  let held = 0;
  for (const result of results) {
    histogram.add(LatencyHistogram.decode(result.histogram));
    addErrorCounts(errors, result.errors);
    connected += result.connected;
    messages += result.messages;
    msgsPerSecond += result.windowMs > 0 ? (result.messages * 1000) / result.windowMs : 0;
    windowMs = Math.max(windowMs, result.windowMs);
    connectMs = Math.max(connectMs, result.connectMs);
    verifyMs = Math.max(verifyMs, result.verifyMs);
    held += result.held;
  }
  return {
    connected,
    messages,
    msgsPerSecond,
    windowMs,
    connectMs,
    verifyMs,
    held,
    errors,
    histogram,
  };
}

/** The summary of a run from its options and its processes' results. */
export function summarize(options: BenchOptions, results: readonly ProcessResult[]): BenchSummary {
  const merged = mergeResults(results);
  const rate = round(merged.msgsPerSecond, 1);
  const summary: BenchSummary = {
    mode: options.mode,
    target: describeTarget(options.target),
    connections: options.connections,
    connected: merged.connected,
    processes: options.processes,
    duration_s: round(merged.windowMs / 1000, 3),
    warmup_s: options.warmupMs / 1000,
    messages: merged.messages,
    msgs_per_s: rate,
    errors: totalErrors(merged.errors),
    errors_by_kind: merged.errors,
    latency_us: merged.histogram.summary(),
  };
  switch (options.mode) {
    case 'rate':
      return { ...summary, target_rate: options.rate };
    case 'hold':
      return {
        ...summary,
        held: merged.held,
        connect_s: round(merged.connectMs / 1000, 3),
        verify_s: round(merged.verifyMs / 1000, 3),
      };
    case 'churn':
      return { ...summary, conns_per_s: rate };
    case 'pingpong':
      return summary;
  }
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
