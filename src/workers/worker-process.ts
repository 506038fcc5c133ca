/**
 * One worker process as the primary sees it, started with `node:cluster` (cluster mode) or
 * `child_process.fork` (reuseport mode: the worker must listen itself, not through cluster).
 * Either way it gets the primary's stdio and an IPC channel, and this wrapper gives both kinds
 * one shape: `send`, the messages that are ours, `ready`, `exited`, `kill`.
 */
import { type ChildProcess, fork } from 'node:child_process';
import cluster from 'node:cluster';
import type { Backend } from '../backend.js';
import type { SocketAddress } from '../transport.js';
import {
  type DrainResult,
  type FromWorker,
  isFromWorker,
  type ToWorker,
  WORKER_ENV,
  type WorkerTotals,
} from './messages.js';
import type { WorkerMode } from './mode.js';

/** The program a worker runs. */
export interface WorkerLaunch {
  /** The script: `bin/aionet.js` for the CLI, the library's worker entry otherwise. */
  readonly exec: string;
  readonly args: readonly string[];
  /** Node flags (a TypeScript loader when running from source). @default process.execArgv */
  readonly execArgv?: readonly string[];
  /** Extra environment for every worker. */
  readonly env?: Readonly<Record<string, string>>;
}

/** How a worker process ended. */
export interface WorkerExit {
  readonly code: number | null;
  readonly signal: string | null;
}

/** What a worker reported when it became ready. */
export interface WorkerReady {
  readonly addresses: readonly SocketAddress[];
  readonly backend: Backend;
}

/** What a worker reported when it had drained. */
export interface WorkerDrained {
  readonly result: DrainResult;
  readonly totals: WorkerTotals;
}

let clusterConfigured = false;

/** A running worker. */
export class WorkerProcess {
  readonly slot: number;
  readonly generation: number;
  readonly #child: ChildProcess;
  readonly #send: (message: ToWorker) => boolean;
  /** Resolves when the worker listens; rejects if it fails or exits first. */
  readonly ready: Promise<WorkerReady>;
  /** Resolves when the process has exited. */
  readonly exited: Promise<WorkerExit>;
  /** Set when the worker has drained (its report), before it exits. */
  drained: WorkerDrained | undefined;
  #isReady = false;
  #exit: WorkerExit | undefined;
  #onMetrics: ((id: number, metrics: unknown[]) => void) | undefined;

  constructor(mode: WorkerMode, launch: WorkerLaunch, slot: number, generation: number) {
    this.slot = slot;
    this.generation = generation;
    const env = { ...launch.env, [WORKER_ENV]: `${slot}:${generation}:${mode}` };
    const execArgv = [...(launch.execArgv ?? process.execArgv)];
    if (mode === 'cluster') {
      if (!clusterConfigured) {
        // Round-robin: the primary accepts and deals connections out in turn. The alternative
        // (SCHED_NONE, workers accepting from a shared socket) piles connections on whichever
        // worker wakes first, so one can run out of files while others idle.
        cluster.schedulingPolicy = cluster.SCHED_RR;
        clusterConfigured = true;
      }
      cluster.setupPrimary({ exec: launch.exec, args: [...launch.args], execArgv });
      const worker = cluster.fork(env);
      this.#child = worker.process;
      this.#send = (message) => worker.send(message);
    } else {
      const child = fork(launch.exec, [...launch.args], {
        env: { ...process.env, ...env },
        execArgv,
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      this.#child = child;
      this.#send = (message) => child.send(message);
    }
    this.exited = new Promise((resolve) => {
      this.#child.once('exit', (code, signal) => {
        this.#exit = { code, signal };
        resolve(this.#exit);
      });
    });
    this.ready = new Promise((resolve, reject) => {
      this.#child.on('message', (message: unknown) => {
        if (!isFromWorker(message)) return;
        this.#receive(message, resolve, reject);
      });
      void this.exited.then((exit) => {
        if (!this.#isReady) reject(new Error(`exited before listening (${describeExit(exit)})`));
      });
    });
    // A worker that never becomes ready is the slot's business; no unhandled rejection here.
    this.ready.catch(() => {});
  }

  /** The worker's process id. */
  get pid(): number | undefined {
    return this.#child.pid;
  }

  /** Whether it listens and has not exited. */
  get isUp(): boolean {
    return this.#isReady && this.#exit === undefined;
  }

  /** Whether the process has exited. */
  get hasExited(): boolean {
    return this.#exit !== undefined;
  }

  /** Sends a message if the channel is open; false when it is not. */
  send(message: ToWorker): boolean {
    if (!this.#child.connected) return false;
    try {
      return this.#send(message);
    } catch {
      return false;
    }
  }

  /** Where metrics answers go (one listener: the group's metrics collector). */
  onMetrics(listener: (id: number, metrics: unknown[]) => void): void {
    this.#onMetrics = listener;
  }

  /** Sends `signal` unless the process has exited. */
  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.#exit === undefined) this.#child.kill(signal);
  }

  #receive(
    message: FromWorker,
    resolve: (ready: WorkerReady) => void,
    reject: (error: Error) => void,
  ): void {
    switch (message.type) {
      case 'aionet:ready':
        this.#isReady = true;
        resolve({ addresses: message.addresses, backend: message.backend });
        break;
      case 'aionet:failed':
        reject(new Error(message.message));
        break;
      case 'aionet:drained':
        this.drained = { result: message.result, totals: message.totals };
        break;
      case 'aionet:metrics':
        this.#onMetrics?.(message.id, message.metrics);
        break;
    }
  }
}

/** `code 1`, `SIGKILL`. */
export function describeExit(exit: WorkerExit): string {
  return exit.signal !== null ? exit.signal : `code ${exit.code}`;
}
