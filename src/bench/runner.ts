/**
 * Runs a whole benchmark from its options: in this process, or spread over worker processes,
 * with the live status line, and returns the merged summary.
 */
import { type BenchOptions, splitPlans } from './options.js';
import { createRun } from './run.js';
import { StatusLine, type StatusSample, type StatusStream } from './status-line.js';
import { type BenchSummary, type ProcessResult, summarize } from './summary.js';
import { WorkerRun } from './workers.js';

/** Where a run reports while it runs, and how to cut it short. */
export interface RunnerIo {
  /** Where the live status line goes; none when absent or with `--quiet`. */
  readonly status?: StatusStream;
  /** Aborting it ends the run early; the summary keeps what was measured. */
  readonly signal?: AbortSignal;
}

/**
 * Runs the benchmark described by `options` and resolves with its summary.
 *
 * @throws Error when a worker process fails or overruns its bound.
 */
export async function runBench(options: BenchOptions, io: RunnerIo = {}): Promise<BenchSummary> {
  const plans = splitPlans(options, options.processes);
  let stop: () => void;
  let sample: () => StatusSample;
  let results: Promise<ProcessResult[]>;
  const [only] = plans;
  if (plans.length === 1 && only !== undefined) {
    const run = createRun(only);
    stop = () => run.stop();
    sample = () => run.progress();
    results = run.run().then((result) => [result]);
  } else {
    const workers = new WorkerRun(plans);
    stop = () => workers.stop();
    sample = () => workers.sample();
    results = workers.run();
  }
  const status =
    io.status !== undefined && !options.quiet ? new StatusLine(io.status, sample) : undefined;
  status?.start();
  const onAbort = (): void => stop();
  if (io.signal?.aborted === true) stop();
  io.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    return summarize(options, await results);
  } finally {
    io.signal?.removeEventListener('abort', onAbort);
    status?.stop();
  }
}
