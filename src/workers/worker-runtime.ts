/**
 * The worker side of a group: whether this process is a worker, the listen options its mode
 * needs, and `serveAsWorker`, which tells the primary the server listens and then obeys it —
 * drain on `shutdown`, answer `metrics` requests — until the worker has drained.
 *
 * A worker never outlives its primary: when the IPC channel goes away (the primary died), it
 * drains and exits. It ignores SIGINT — Ctrl-C reaches the whole process group, and the primary
 * decides — and drains by itself on SIGTERM sent to it alone.
 */
import type { Backend } from '../backend.js';
import { createMetrics } from '../metrics/create-metrics.js';
import type { Server } from '../server.js';
import {
  type DrainResult,
  type FromWorker,
  isToWorker,
  type ToWorker,
  WORKER_ENV,
  WORKER_METRICS_ENV,
  type WorkerTotals,
} from './messages.js';
import type { WorkerMode } from './mode.js';
import { resolveDrainTimeout } from './options.js';

/** Who this worker is, from its environment. */
export interface WorkerIdentity {
  /** The slot it fills, from 0. */
  readonly slot: number;
  /** How many workers filled the slot before it (restarts and rolls). */
  readonly generation: number;
  readonly mode: WorkerMode;
}

/** Where a worker's metrics come from: prom-client's `registry.getMetricsAsJSON()`. */
export type MetricsSource = () => Promise<unknown[]> | unknown[];

/** What `serveAsWorker` needs besides the server. */
export interface WorkerServeOptions {
  /** The backend the server runs on, for the primary's report. */
  readonly backend: Backend;
  /**
   * This worker's metrics, merged by the primary. @default `createMetrics(server)` when the
   * primary serves metrics, else none
   */
  readonly metrics?: MetricsSource;
  /**
   * Drain timeout for a shutdown the worker starts itself (SIGTERM, primary gone); the
   * primary's `shutdown` message carries its own. @default 10000
   */
  readonly drainTimeout?: number;
}

/** This process's identity in a group, or `undefined` when it is not a worker. */
export function workerIdentity(env: NodeJS.ProcessEnv = process.env): WorkerIdentity | undefined {
  const text = env[WORKER_ENV];
  if (text === undefined || process.send === undefined) return undefined;
  const [slot, generation, mode] = text.split(':');
  if (mode !== 'cluster' && mode !== 'reuseport') return undefined;
  return { slot: Number(slot), generation: Number(generation), mode };
}

/**
 * Server options a worker adds to its own: `reusePort` in reuseport mode (cluster mode needs
 * nothing — `net` routes the listen through the primary).
 */
export function workerServerOptions(identity = workerIdentity()): { reusePort?: true } {
  return identity?.mode === 'reuseport' ? { reusePort: true } : {};
}

/** Tells the primary this worker could not start (listen failed…); then exit non-zero. */
export function reportStartFailure(error: unknown): Promise<void> {
  const message = error instanceof Error ? error.message : String(error);
  return send({ type: 'aionet:failed', message });
}

/**
 * Serves as a worker until drained: tells the primary the server listens, answers its requests,
 * drains on its `shutdown` (or on SIGTERM, or when the primary is gone), reports, and resolves
 * with the exit status (0).
 */
export function serveAsWorker(server: Server, options: WorkerServeOptions): Promise<number> {
  const ownDrainTimeout = resolveDrainTimeout(options.drainTimeout);
  let metrics = options.metrics;
  if (metrics === undefined && process.env[WORKER_METRICS_ENV] === '1') {
    const registry = createMetrics(server);
    metrics = () => registry.getMetricsAsJSON();
  }
  return new Promise((resolve) => {
    let draining: Promise<void> | undefined;
    const drain = (drainTimeout: number): Promise<void> => {
      draining ??= settle(server).then(async () => {
        const result: DrainResult = await server.shutdown({ drainTimeout });
        await send({ type: 'aionet:drained', result, totals: totalsOf(server) });
        process.removeListener('message', onMessage);
        process.removeListener('SIGTERM', onTerm);
        process.removeListener('SIGINT', ignore);
        resolve(0);
      });
      return draining;
    };
    const onMessage = (message: unknown): void => {
      if (!isToWorker(message)) return;
      handle(message, metrics, drain);
    };
    const onTerm = (): void => void drain(ownDrainTimeout);
    process.on('message', onMessage);
    process.on('SIGTERM', onTerm);
    process.on('SIGINT', ignore);
    process.once('disconnect', () => void drain(ownDrainTimeout));
    void send({
      type: 'aionet:ready',
      addresses: server.addresses(),
      backend: options.backend,
    });
  });
}

function handle(
  message: ToWorker,
  metrics: MetricsSource | undefined,
  drain: (drainTimeout: number) => Promise<void>,
): void {
  if (message.type === 'aionet:shutdown') {
    void drain(message.drainTimeout);
    return;
  }
  const { id } = message;
  Promise.resolve(metrics === undefined ? [] : metrics()).then(
    (list) => send({ type: 'aionet:metrics', id, metrics: list }),
    () => send({ type: 'aionet:metrics', id, metrics: [] }),
  );
}

/**
 * Milliseconds between closing the listener and closing idle connections. A connection
 * accepted just before the drain usually has its first request in flight — the client sends it
 * right behind its handshake — and closing it as idle before that request is read would lose
 * it. In this pause every connection is still served; then `shutdown()` closes the idle ones.
 */
export const DRAIN_SETTLE_MS = 200;

/** Stops accepting, then lets what was just accepted be read and answered. */
async function settle(server: Server): Promise<void> {
  void server.close();
  await new Promise((resolve) => setTimeout(resolve, DRAIN_SETTLE_MS));
}

function totalsOf(server: Server): WorkerTotals {
  const { stats } = server;
  return {
    accepted: stats.accepted,
    rejected: stats.rejected,
    closed: { ...stats.closed },
    bytesReceived: stats.bytesReceived,
    bytesSent: stats.bytesSent,
  };
}

/** Sends to the primary; resolves once the message is handed to the channel (or it is gone). */
function send(message: FromWorker): Promise<void> {
  return new Promise((resolve) => {
    if (process.send === undefined || !process.connected) {
      resolve();
      return;
    }
    process.send(message, undefined, {}, () => resolve());
  });
}

function ignore(): void {}
