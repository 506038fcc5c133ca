/**
 * What the local host allows the generator: open files per process, ephemeral ports per source
 * address, and which addresses count as loopback. Read from `/proc` on Linux, with safe
 * fallbacks elsewhere.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';

/** Linux's default ephemeral port range, 32768–60999, used when `/proc` cannot be read. */
const DEFAULT_EPHEMERAL_PORTS = 60999 - 32768 + 1;

/** Share of one source address's ephemeral ports a run may use before it spreads. */
const SOURCE_PORT_SHARE = 0.8;

/**
 * File descriptors a process keeps for itself besides its connections: stdio, the IPC channel,
 * libuv's internal pipes and epoll fd, and Node's own files.
 */
export const FD_HEADROOM = 64;

/**
 * The most connections of a run we leave on one source address: 80 % of its ephemeral ports,
 * the rest left for other programs. Binding a source address costs: Node has no
 * `IP_BIND_ADDRESS_NO_PORT`, so the port is then chosen by `bind()`, whose search is much slower
 * than `connect()`'s once thousands of ports are taken (opening 15,000 connections took 7 s
 * instead of 5 here). So the generator binds only when one address cannot hold the run.
 */
export function connectionsPerSource(): number {
  try {
    const text = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8');
    const [low, high] = text.trim().split(/\s+/).map(Number);
    if (low !== undefined && high !== undefined && high >= low) {
      return Math.floor((high - low + 1) * SOURCE_PORT_SHARE);
    }
  } catch {
    // Not Linux: fall through to the default range.
  }
  return Math.floor(DEFAULT_EPHEMERAL_PORTS * SOURCE_PORT_SHARE);
}

/**
 * How many source addresses `connections` need: 0 (let the kernel choose, one address) while
 * they fit in one address's share of ephemeral ports, else enough `127.0.0.x` addresses.
 * The cap of 254 keeps within `127.0.0.1..127.0.0.254`.
 */
export function autoSources(connections: number): number {
  const perSource = connectionsPerSource();
  if (connections <= perSource) return 0;
  return Math.min(254, Math.ceil(connections / perSource));
}

/**
 * The soft limit on open files of this process (Node raises it to the hard limit at start-up),
 * or `Infinity` when it cannot be read.
 */
export function openFileLimit(): number {
  try {
    const text = readFileSync('/proc/self/limits', 'utf8');
    const line = text.split('\n').find((l) => l.startsWith('Max open files'));
    const soft = line?.slice('Max open files'.length).trim().split(/\s+/)[0];
    if (soft === 'unlimited') return Number.POSITIVE_INFINITY;
    const value = Number(soft);
    if (Number.isInteger(value) && value > 0) return value;
  } catch {
    // Not Linux: no known limit.
  }
  return Number.POSITIVE_INFINITY;
}

/**
 * Whether `host` is a loopback address: `localhost`, `127.0.0.0/8` or `::1`. The generator
 * refuses anything else, so a typo cannot aim a load test at another machine.
 */
export function isLoopbackHost(host: string): boolean {
  if (host === 'localhost') return true;
  const family = isIP(host);
  if (family === 4) return host.startsWith('127.');
  if (family === 6) return host === '::1' || host === '0:0:0:0:0:0:0:1';
  return false;
}

/** Whether `host` is an IPv4 literal, the only family whose sources we can spread. */
export function isIPv4(host: string): boolean {
  return isIP(host) === 4;
}
