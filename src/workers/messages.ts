/**
 * The IPC conversation between a group's primary and its workers. Every message is a plain
 * object whose `type` starts with `aionet:`, so the channel can carry other messages too
 * (cluster's own, prom-client's) without confusion.
 *
 *     worker → primary   ready (listening) | failed (could not start) | drained (then exits)
 *                        | metrics (the answer to a request)
 *     primary → worker   shutdown (drain, report, exit) | metrics (a request, with an id)
 */
import type { Backend } from '../backend.js';
import type { SocketAddress } from '../transport.js';

/** Counters a worker reports when it has drained: the server's stats, flattened. */
export interface WorkerTotals {
  readonly accepted: number;
  readonly rejected: number;
  readonly closed: Readonly<Record<string, number>>;
  readonly bytesReceived: number;
  readonly bytesSent: number;
}

/** What `server.shutdown()` did in a worker. */
export interface DrainResult {
  readonly drained: number;
  readonly aborted: number;
}

/** Messages a worker sends. */
export type FromWorker =
  | {
      readonly type: 'aionet:ready';
      readonly addresses: readonly SocketAddress[];
      readonly backend: Backend;
    }
  | { readonly type: 'aionet:failed'; readonly message: string }
  | {
      readonly type: 'aionet:drained';
      readonly result: DrainResult;
      readonly totals: WorkerTotals;
    }
  | { readonly type: 'aionet:metrics'; readonly id: number; readonly metrics: unknown[] };

/** Messages the primary sends. */
export type ToWorker =
  | { readonly type: 'aionet:shutdown'; readonly drainTimeout: number }
  | { readonly type: 'aionet:metrics'; readonly id: number };

const FROM_WORKER = new Set(['aionet:ready', 'aionet:failed', 'aionet:drained', 'aionet:metrics']);
const TO_WORKER = new Set(['aionet:shutdown', 'aionet:metrics']);

/** Whether `message` is one of ours from a worker. */
export function isFromWorker(message: unknown): message is FromWorker {
  return isTyped(message) && FROM_WORKER.has(message.type);
}

/** Whether `message` is one of ours from the primary. */
export function isToWorker(message: unknown): message is ToWorker {
  return isTyped(message) && TO_WORKER.has(message.type);
}

function isTyped(message: unknown): message is { type: string } {
  return (
    typeof message === 'object' &&
    message !== null &&
    typeof (message as { type?: unknown }).type === 'string'
  );
}

/**
 * The environment variable that makes a process a worker: `slot:generation:mode`. Set by the
 * primary on each worker it starts; a process without it is not a worker.
 */
export const WORKER_ENV = 'AIONET_WORKER';

/** Set to `1` on workers when the primary serves metrics: they then keep a registry to ask. */
export const WORKER_METRICS_ENV = 'AIONET_WORKER_METRICS';
