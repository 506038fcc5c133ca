/**
 * `--processes K`: forks K worker processes, hands each its share of the plan, gathers their
 * progress for the status line and their results for the summary. Histograms arrive encoded and
 * are merged count by count, so the merge is exact.
 *
 * The parent bounds the wait: a worker that has not answered by the run's bound plus grace is
 * killed (that worker only, by its own handle) and the run fails.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { LatencyHistogram } from './histogram.js';
import type { Phase } from './mode-run.js';
import type { RunPlan } from './options.js';
import { RUN_GRACE_MS, runBoundMs } from './run.js';
import type { StatusSample } from './status-line.js';
import type { ProcessResult } from './summary.js';
import { encodePlan, isFromWorker, type ToWorker, type WireProgress } from './worker-protocol.js';

/**
 * The worker's entry, next to this module and with its extension: `.ts` when run from source
 * (the loader flags of this process are passed on by `fork`), `.js` when compiled.
 */
const WORKER_ENTRY = fileURLToPath(
  new URL(`./worker-main${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url),
);

/** Flags of this process a worker must not inherit, each followed by its value. */
const EVAL_FLAGS = new Set(['-e', '--eval', '-p', '--print']);

/**
 * This process's Node flags minus any `--eval`/`--print` code: a generator started with
 * `node -e "…"` (or `tsx -e`) must not hand that code to its workers, which would run it
 * instead of the worker entry. Loader flags (`--import tsx`) are kept.
 */
export function workerExecArgv(execArgv: readonly string[]): string[] {
  const kept: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    const flag = execArgv[i] ?? '';
    if (EVAL_FLAGS.has(flag)) {
      i++;
      continue;
    }
    if (/^(--eval|--print)=/.test(flag)) continue;
    kept.push(flag);
  }
  return kept;
}

/** Order of phases, to show the least advanced worker's phase. */
const PHASE_ORDER: readonly Phase[] = [
  'connecting',
  'verifying',
  'warmup',
  'measuring',
  'holding',
  'done',
];

/** A run spread over worker processes. */
export class WorkerRun {
  readonly #plans: readonly RunPlan[];
  readonly #children: ChildProcess[] = [];
  readonly #progress: (WireProgress | undefined)[];

  constructor(plans: readonly RunPlan[]) {
    this.#plans = plans;
    this.#progress = plans.map(() => undefined);
  }

  /** Starts every worker; resolves with their results in plan order, or rejects if one fails. */
  run(): Promise<ProcessResult[]> {
    const bound = Math.max(...this.#plans.map(runBoundMs)) + 2 * RUN_GRACE_MS;
    const results = this.#plans.map((plan, index) => this.#runOne(plan, index));
    let timer: NodeJS.Timeout | undefined;
    const overrun = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.#killAll();
        reject(new Error(`workers did not finish within ${Math.round(bound / 1000)} s`));
      }, bound);
    });
    const all = Promise.all(results).catch((error: unknown) => {
      // One worker failed: the run is lost, the others need not finish it.
      this.#killAll();
      throw error;
    });
    return Promise.race([all, overrun]).finally(() => clearTimeout(timer));
  }

  /** Asks every worker to cut its run short; each still sends what it measured. */
  stop(): void {
    const message: ToWorker = { type: 'stop' };
    for (const child of this.#children) if (child.connected) child.send(message);
  }

  /** The status over all workers: counts summed, histograms merged. */
  sample(): StatusSample {
    const histogram = new LatencyHistogram();
    let phase: Phase = 'done';
    let up = 0;
    let completed = 0;
    let errors = 0;
    for (const progress of this.#progress) {
      if (progress === undefined) {
        phase = 'connecting';
        continue;
      }
      if (PHASE_ORDER.indexOf(progress.phase) < PHASE_ORDER.indexOf(phase)) phase = progress.phase;
      up += progress.up;
      completed += progress.completed;
      errors += progress.errors;
      histogram.add(LatencyHistogram.decode(progress.histogram));
    }
    return { phase, up, completed, errors, histogram };
  }

  #runOne(plan: RunPlan, index: number): Promise<ProcessResult> {
    return new Promise((resolve, reject) => {
      const child = fork(WORKER_ENTRY, [], {
        execArgv: workerExecArgv(process.execArgv),
        stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      });
      this.#children.push(child);
      let settled = false;
      child.on('message', (message: unknown) => {
        if (!isFromWorker(message)) return;
        if (message.type === 'progress') {
          this.#progress[index] = message.progress;
        } else if (message.type === 'result') {
          settled = true;
          resolve(message.result);
        } else {
          settled = true;
          reject(new Error(`worker ${index} failed: ${message.message}`));
        }
      });
      child.on('error', (error) => {
        if (settled) return;
        settled = true;
        reject(new Error(`worker ${index}: ${error.message}`));
      });
      child.on('exit', (code, signal) => {
        if (settled) return;
        settled = true;
        reject(new Error(`worker ${index} exited (${signal ?? `code ${code}`}) without a result`));
      });
      const message: ToWorker = { type: 'run', plan: encodePlan(plan) };
      child.send(message);
    });
  }

  #killAll(): void {
    for (const child of this.#children) if (child.exitCode === null) child.kill('SIGKILL');
  }
}
