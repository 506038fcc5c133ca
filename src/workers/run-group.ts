/**
 * Runs a worker group as the primary process: starts it, prints the startup report, and turns
 * signals into group operations until the group is gone.
 *
 * - SIGINT / SIGTERM: drain every worker (each `server.shutdown()` with the drain timeout),
 *   print a merged summary, exit 0. A second one kills the workers and exits 130.
 * - SIGHUP: rolling restart, one worker at a time, a new one listening before the old drains.
 * - Every slot in a crash loop: nothing is left to serve, exit 1.
 *
 * The primary serves no connection itself.
 */

import { FD_RESERVE, groupCapacity, openFileLimit } from './fd-limit.js';
import { formatAddresses, type GroupConfig, type GroupSummary, WorkerGroup } from './group.js';
import { describeMode, kernelMigratesRequests } from './mode.js';

/** Exit statuses of the primary (the CLI's own). */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
/** A second signal cut the drain short (128 + SIGINT, as the single-process server). */
export const EXIT_FORCED = 130;

/** Where the primary writes. */
export interface GroupOutput {
  /** The startup report and the summary. @default stdout */
  info(line: string): void;
  /** News and errors. @default stderr */
  warn(line: string): void;
}

/** How to run a group. */
export interface RunGroupOptions {
  /** Handle SIGINT, SIGTERM and SIGHUP in this process. @default true */
  readonly signals?: boolean;
  readonly output?: GroupOutput;
  /** Called once the group serves (metrics endpoint and such); its result is closed at exit. */
  readonly onStarted?: (group: WorkerGroup) => Promise<(() => Promise<void>) | undefined>;
}

/** A group being run: the group, and its exit status when it is gone. */
export interface GroupRun {
  readonly group: WorkerGroup;
  /** Resolves once every worker listened once; rejects when the first could not start. */
  readonly started: Promise<void>;
  /** The primary's exit status, when the group is gone. */
  readonly exitCode: Promise<number>;
  /** Drain every worker (what SIGTERM does). */
  stop(): void;
  /** Whether the group is going down (drain, kill or crash loop). */
  isStopping(): boolean;
}

const stdoutOutput: GroupOutput = {
  info: (line) => process.stdout.write(`${line}\n`),
  warn: (line) => process.stderr.write(`${line}\n`),
};

/** Starts the group and supervises it until it is gone. */
export function runGroup(
  config: Omit<GroupConfig, 'log'>,
  options: RunGroupOptions = {},
): GroupRun {
  const output = options.output ?? stdoutOutput;
  const group = new WorkerGroup({ ...config, log: (line) => output.warn(`aionet: ${line}`) });
  let stopping = false;
  let settle: (code: number) => void = () => {};
  const exitCode = new Promise<number>((resolve) => {
    settle = resolve;
  });
  let closeExtras: (() => Promise<void>) | undefined;

  const finish = async (code: number): Promise<void> => {
    removeSignals();
    await closeExtras?.().catch(() => {});
    settle(code);
  };
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    void group.shutdown().then((summary) => {
      output.info(formatSummary(summary));
      return finish(EXIT_OK);
    });
  };
  const onStop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      output.warn(`${signal}: killing the workers`);
      group.kill();
      void finish(EXIT_FORCED);
      return;
    }
    output.warn(`${signal}: draining ${config.workers} workers (up to ${config.drainTimeout} ms)`);
    stop();
  };
  const onHangUp = (): void => {
    if (stopping) return;
    output.warn('SIGHUP: rolling restart');
    void group.roll().then(() => {
      if (!stopping) output.warn('aionet: rolling restart done');
    });
  };
  const signals = options.signals ?? true;
  const removeSignals = (): void => {
    if (!signals) return;
    process.removeListener('SIGINT', onStop);
    process.removeListener('SIGTERM', onStop);
    process.removeListener('SIGHUP', onHangUp);
  };
  if (signals) {
    process.on('SIGINT', onStop);
    process.on('SIGTERM', onStop);
    process.on('SIGHUP', onHangUp);
  }

  const started = group.start().then(
    async () => {
      for (const line of startupReport(group, config.workers)) output.info(line);
      if (group.mode === 'reuseport' && kernelMigratesRequests() === false) {
        output.warn(
          'aionet: net.ipv4.tcp_migrate_req is 0: a rolling restart (SIGHUP) may reset ' +
            'connections caught in a closing worker’s accept queue; set it to 1 (docs/workers.md)',
        );
      }
      try {
        closeExtras = await options.onStarted?.(group);
      } catch (error) {
        output.warn(`aionet: ${(error as Error).message}`);
        group.kill();
        await finish(EXIT_FAILURE);
        throw error;
      }
    },
    async (error: Error) => {
      output.warn(`aionet: the first worker could not start: ${error.message}`);
      group.kill();
      await finish(EXIT_FAILURE);
      throw error;
    },
  );
  started.catch(() => {});
  void group.allFailed.then(() => {
    if (stopping) return;
    stopping = true;
    output.warn('aionet: every worker is in a crash loop; exiting');
    group.kill();
    void finish(EXIT_FAILURE);
  });
  return { group, started, exitCode, stop, isStopping: () => stopping };
}

/** The lines printed once the group serves. */
export function startupReport(group: WorkerGroup, workers: number): string[] {
  const fdLimit = openFileLimit();
  const pids = group
    .status()
    .map((slot) => slot.pid)
    .join(', ');
  const capacity = Number.isFinite(fdLimit)
    ? `capacity: ${workers} workers × (${fdLimit.toLocaleString('en-US')} open files per process − ${FD_RESERVE} reserved) = ${groupCapacity(workers, fdLimit).toLocaleString('en-US')} connections`
    : 'capacity: no open-file limit known';
  return [
    `Serving on ${formatAddresses(group.addresses)} (${group.backend} transport, ${workers} workers, ${group.mode})`,
    `workers: pids ${pids}; ${describeMode(group.mode)}`,
    capacity,
  ];
}

/** The line printed when the group has drained. */
export function formatSummary(summary: GroupSummary): string {
  return (
    `drained: ${summary.workersReported} worker drains, ${summary.accepted} connections served, ` +
    `${summary.drained} closed gracefully, ${summary.aborted} reset at the drain timeout, ` +
    `${summary.restarts} restarts`
  );
}
