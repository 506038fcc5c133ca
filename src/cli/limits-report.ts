/**
 * The startup report of `aionet serve`: every effective limit on one line
 * (`Limits: max-connections=unlimited idle-timeout=off … fds=20000 (~19,990 connections)`), the
 * same as JSON fields, and the file-descriptor budget read from `/proc/self/limits`.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** The process's file descriptors: its soft limit (`ulimit -n`) and how many are open now. */
export interface FdBudget {
  /** The soft RLIMIT_NOFILE; `Infinity` when unlimited. */
  readonly limit: number;
  /** Descriptors open when the report is made (stdio, listeners, the event loop's own). */
  readonly inUse: number;
}

/** Every limit `aionet serve` runs with, resolved: `Infinity` or 0 (deadlines) means none. */
export interface EffectiveLimits {
  readonly maxConnections: number;
  /** Milliseconds; 0: off. */
  readonly idleTimeout: number;
  /** Bytes. */
  readonly maxWriteBuffer: number;
  /** Milliseconds; 0: off. */
  readonly writeStallTimeout: number;
  /** Milliseconds. */
  readonly drainTimeout: number;
  /** Unknown where `/proc` is not mounted. */
  readonly fds: FdBudget | undefined;
}

/**
 * The descriptor budget of this process, or `undefined` where `/proc` cannot tell (not Linux).
 * Each connection takes one descriptor.
 */
export function readFdBudget(): FdBudget | undefined {
  let text: string;
  let inUse: number;
  try {
    text = readFileSync('/proc/self/limits', 'utf8');
    // The listing itself holds one descriptor while it runs.
    inUse = readdirSync('/proc/self/fd').length - 1;
  } catch {
    return undefined;
  }
  const match = /^Max open files\s+(\S+)/m.exec(text);
  if (match === null) return undefined;
  const soft = match[1]!;
  const limit = soft === 'unlimited' ? Number.POSITIVE_INFINITY : Number(soft);
  if (Number.isNaN(limit)) return undefined;
  return { limit, inUse };
}

/** Connections the descriptor budget leaves room for. */
export function connectionsPossible(fds: FdBudget): number {
  return Math.max(0, fds.limit - fds.inUse);
}

/** The one-line report: `max-connections=unlimited idle-timeout=off …`. */
export function formatLimits(limits: EffectiveLimits): string {
  const parts = [
    `max-connections=${limits.maxConnections === Number.POSITIVE_INFINITY ? 'unlimited' : limits.maxConnections}`,
    `idle-timeout=${seconds(limits.idleTimeout)}`,
    `max-write-buffer=${limits.maxWriteBuffer === Number.POSITIVE_INFINITY ? 'unlimited' : limits.maxWriteBuffer}`,
    `write-stall-timeout=${seconds(limits.writeStallTimeout)}`,
    `drain-timeout=${limits.drainTimeout / 1000}s`,
  ];
  const { fds } = limits;
  if (fds === undefined) parts.push('fds=unknown');
  else if (fds.limit === Number.POSITIVE_INFINITY) parts.push('fds=unlimited');
  else {
    const room = connectionsPossible(fds).toLocaleString('en-US');
    parts.push(`fds=${fds.limit} (~${room} connections)`);
  }
  return parts.join(' ');
}

/** The report as JSON fields; `null` means none (unlimited, or off). */
export function limitsFields(limits: EffectiveLimits): Record<string, number | null> {
  const { fds } = limits;
  return {
    maxConnections: finite(limits.maxConnections),
    idleTimeoutSeconds: limits.idleTimeout > 0 ? limits.idleTimeout / 1000 : null,
    maxWriteBufferBytes: finite(limits.maxWriteBuffer),
    writeStallTimeoutSeconds: limits.writeStallTimeout > 0 ? limits.writeStallTimeout / 1000 : null,
    drainTimeoutSeconds: limits.drainTimeout / 1000,
    fdLimit: fds === undefined ? null : finite(fds.limit),
    connectionsPossible: fds === undefined ? null : finite(connectionsPossible(fds)),
  };
}

/**
 * Why the limits cannot hold, if they cannot: a connection limit the descriptor budget does not
 * leave room for, so the server would run out of descriptors (EMFILE) before reaching it. With
 * no connection limit the report's `fds=` part already names the real bound.
 */
export function limitsWarning(limits: EffectiveLimits): string | undefined {
  const { fds, maxConnections } = limits;
  if (fds === undefined || maxConnections === Number.POSITIVE_INFINITY) return undefined;
  const room = connectionsPossible(fds);
  if (maxConnections <= room) return undefined;
  return (
    `max-connections=${maxConnections} but only ~${room} file descriptors are free ` +
    `(ulimit -n ${fds.limit}): connections past that are closed at once (EMFILE)`
  );
}

function seconds(ms: number): string {
  return ms > 0 ? `${ms / 1000}s` : 'off';
}

function finite(value: number): number | null {
  return Number.isFinite(value) ? value : null;
}
