/**
 * The messages between `aionet bench --processes K` and its worker processes, in the form that
 * crosses the IPC channel (JSON: buffers travel as base64), with their encoders and guards.
 *
 *     parent -> worker:  run(plan) [-> stop]
 *     worker -> parent:  progress* -> (result | error)
 */
import { Buffer } from 'node:buffer';
import type { ReplySpec } from './framing.js';
import type { Phase } from './mode-run.js';
import type { RunPlan } from './options.js';
import type { ProcessResult } from './summary.js';

/** A {@link RunPlan} as it crosses the channel. */
export type WirePlan = Omit<RunPlan, 'message' | 'reply'> & {
  readonly message: string;
  readonly reply: {
    readonly size: number;
    readonly exact: string | null;
    readonly prefix: string | null;
    readonly lineTerminated: boolean;
  };
};

/** A worker's live progress; the histogram is encoded. */
export interface WireProgress {
  readonly phase: Phase;
  readonly up: number;
  readonly completed: number;
  readonly errors: number;
  readonly histogram: string;
}

/** What the parent sends. */
export type ToWorker =
  | { readonly type: 'run'; readonly plan: WirePlan }
  | { readonly type: 'stop' };

/** What a worker sends. */
export type FromWorker =
  | { readonly type: 'progress'; readonly progress: WireProgress }
  | { readonly type: 'result'; readonly result: ProcessResult }
  | { readonly type: 'error'; readonly message: string };

export function encodePlan(plan: RunPlan): WirePlan {
  const { reply } = plan;
  return {
    ...plan,
    message: plan.message.toString('base64'),
    reply: {
      size: reply.size,
      exact: reply.exact?.toString('base64') ?? null,
      prefix: reply.prefix?.toString('base64') ?? null,
      lineTerminated: reply.lineTerminated,
    },
  };
}

export function decodePlan(wire: WirePlan): RunPlan {
  const reply: ReplySpec = {
    size: wire.reply.size,
    exact: wire.reply.exact === null ? undefined : Buffer.from(wire.reply.exact, 'base64'),
    prefix: wire.reply.prefix === null ? undefined : Buffer.from(wire.reply.prefix, 'base64'),
    lineTerminated: wire.reply.lineTerminated,
  };
  return { ...wire, message: Buffer.from(wire.message, 'base64'), reply };
}

/** Whether a message from the channel is one the parent sends. */
export function isToWorker(message: unknown): message is ToWorker {
  return hasType(message, 'run') || hasType(message, 'stop');
}

/** Whether a message from the channel is one a worker sends. */
export function isFromWorker(message: unknown): message is FromWorker {
  return hasType(message, 'progress') || hasType(message, 'result') || hasType(message, 'error');
}

function hasType(message: unknown, type: string): boolean {
  return (
    typeof message === 'object' && message !== null && 'type' in message && message.type === type
  );
}
