/**
 * How many connections a group can hold: each process may open only so many files (the soft
 * `RLIMIT_NOFILE`, read from `/proc/self/limits`), and a worker keeps a few for itself.
 */
import { readFileSync } from 'node:fs';

/**
 * Descriptors a worker keeps besides its connections: stdio, the IPC channel, libuv's epoll fd
 * and signal pipes, the native engine's poller, loaded files. 64 leaves room to spare.
 */
export const FD_RESERVE = 64;

/** This process's limit on open files (workers inherit it), or `Infinity` when unknown. */
export function openFileLimit(limitsText?: string): number {
  let text = limitsText;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/self/limits', 'utf8');
    } catch {
      return Number.POSITIVE_INFINITY;
    }
  }
  const line = text.split('\n').find((l) => l.startsWith('Max open files'));
  const soft = line?.slice('Max open files'.length).trim().split(/\s+/)[0];
  const value = Number(soft);
  return Number.isInteger(value) && value > 0 ? value : Number.POSITIVE_INFINITY;
}

/** Connections `workers` processes can hold with `fdLimit` files each. */
export function groupCapacity(workers: number, fdLimit: number): number {
  return workers * Math.max(0, fdLimit - FD_RESERVE);
}
