/**
 * How the workers of a group share one listening address, chosen at start-up:
 *
 * - `reuseport`: every worker listens itself with `SO_REUSEPORT` and the kernel spreads new
 *   connections over the listeners (by a hash of the addresses and ports). Used with the `net`
 *   transport on Node >= 22.12 (`net.Server#listen({ reusePort })`) and always with the native
 *   transport (the engine sets the option itself).
 * - `cluster`: `node:cluster` with round-robin scheduling — the primary owns the listening
 *   socket, accepts, and hands each connection to the next worker over IPC. Used with the `net`
 *   transport on older Node (20).
 */
import { readFileSync } from 'node:fs';
import type { Backend } from '../backend.js';
import { InvalidArgumentError } from '../errors.js';
import { netHasReusePort } from '../net/listener.js';

/** The way a group's workers share the listening address. */
export type WorkerMode = 'cluster' | 'reuseport';

/**
 * The mode for a backend on this Node.
 * @param unixPath the group was asked to listen on a Unix socket path.
 * @throws InvalidArgumentError for a Unix socket path: `SO_REUSEPORT` cannot share one, and a
 *   second listener on a live path is refused as "in use" (the stale-socket check that keeps
 *   two servers from stealing each other's path), so workers serve TCP addresses only.
 */
export function chooseMode(
  backend: Backend,
  unixPath: boolean,
  nodeVersion: string = process.versions.node,
): WorkerMode {
  if (unixPath) {
    throw new InvalidArgumentError(
      'workers listen on TCP addresses only, not on a Unix socket path',
    );
  }
  if (backend === 'native') return 'reuseport';
  return netHasReusePort(nodeVersion) ? 'reuseport' : 'cluster';
}

/** One phrase for the startup report. */
export function describeMode(mode: WorkerMode): string {
  return mode === 'reuseport'
    ? 'reuseport: every worker listens, the kernel spreads connections'
    : 'cluster: the primary accepts and hands connections round-robin';
}

/**
 * Whether the kernel hands the connections queued on a closing `SO_REUSEPORT` listener to
 * another listener of its group (`net.ipv4.tcp_migrate_req`, Linux >= 5.14) instead of
 * resetting them; `undefined` where it cannot be read. Without it, a rolling restart in
 * reuseport mode can reset the few connections that complete their handshake on a worker's
 * listener in the instant it closes.
 */
export function kernelMigratesRequests(): boolean | undefined {
  try {
    return readFileSync('/proc/sys/net/ipv4/tcp_migrate_req', 'utf8').trim() === '1';
  } catch {
    return undefined;
  }
}
