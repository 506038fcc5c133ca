/**
 * The options of a load-generator run, their defaults, and the share of the run one process
 * takes when `--processes` splits it.
 */
import type { Assertion } from './assertions.js';
import type { Framing, ReplySpec } from './framing.js';

/** The modes `--mode` accepts. */
export const MODES = ['pingpong', 'rate', 'hold', 'churn'] as const;

/**
 * How the generator drives its connections:
 * - `pingpong`: closed loop, each connection sends, awaits the full reply, sends again.
 * - `rate`: open loop at a total rate; latency runs from each message's intended send time.
 * - `hold`: open the connections, verify one round trip on each, hold them idle, close.
 * - `churn`: connect, send, await the reply, close, again.
 */
export type Mode = (typeof MODES)[number];

/** TLS for every connection (`--tls`): plain data, so a run plan crosses to worker processes. */
export interface BenchTls {
  /** CA certificates (PEM) the server's certificate must chain to; Node's roots when absent. */
  readonly ca?: string;
  /** Accept any server certificate (`--tls-insecure`: self-signed test servers). */
  readonly insecure: boolean;
}

/**
 * Where the server listens: a loopback TCP address or a Unix socket path, TLS or not; or a UDP
 * address (`--udp`: one connected datagram socket per "connection", one datagram per message).
 */
export type Target =
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number; readonly tls?: BenchTls }
  | { readonly kind: 'unix'; readonly path: string; readonly tls?: BenchTls }
  | { readonly kind: 'udp'; readonly host: string; readonly port: number; readonly tls?: never };

/** Target host when `--host` is absent: the reference servers listen on IPv4 loopback. */
export const DEFAULT_HOST = '127.0.0.1';
/** Target port when `--port` is absent: the chapter's server port. */
export const DEFAULT_PORT = 7000;
/** Message when neither `--message` nor `--message-file` is given: the chapter's client line. */
export const DEFAULT_MESSAGE = 'hello\n';
/** Expected reply when neither `--expect` nor `--expect-bytes` is given: the chapter's answer. */
export const DEFAULT_REPLY = 'Message received';
/** Measured seconds when `--duration` is absent. */
export const DEFAULT_DURATION_S = 10;
/**
 * Warm-up seconds when `--warmup` is absent: one second lets V8 optimise both ends and the
 * server's allocator reach its steady state before anything is recorded.
 */
export const DEFAULT_WARMUP_S = 1;
/**
 * Seconds a connect or a reply may take before it counts as `connect_timeout` or
 * `reply_timeout`: far above any healthy loopback latency, short enough that a silent server
 * shows up within a short run.
 */
export const DEFAULT_TIMEOUT_S = 5;
/**
 * Connects started per second (per process) while opening connections: fast enough to open
 * 15,000 connections in 3 s, slow enough not to overflow a default listen backlog (511).
 */
export const DEFAULT_CONNECT_RATE = 5000;

/** Everything a run was asked to do: the parsed command line. */
export interface BenchOptions {
  readonly mode: Mode;
  readonly target: Target;
  /** Connections in total over all processes (churn: concurrent connect/close slots). */
  readonly connections: number;
  /** Length of the measured window (hold: of the idle hold), in milliseconds. */
  readonly durationMs: number;
  /** Time before the measured window during which nothing is recorded, in milliseconds. */
  readonly warmupMs: number;
  /** The bytes of one message on the wire, framing included. */
  readonly message: Buffer;
  readonly framing: Framing;
  readonly reply: ReplySpec;
  /** Rate mode: messages per second over all connections; 0 in the other modes. */
  readonly rate: number;
  /** Connect and reply timeout, in milliseconds. */
  readonly timeoutMs: number;
  /** Connects started per second and process while opening connections. */
  readonly connectRate: number;
  /** Hold mode: send one message on each connection and verify its reply. */
  readonly send: boolean;
  /** Worker processes; 1 runs in this process. */
  readonly processes: number;
  /**
   * Source addresses `127.0.0.1..127.0.0.N` the connections are spread over; 0 lets the kernel
   * pick the source (one address).
   */
  readonly sources: number;
  readonly json: boolean;
  readonly quiet: boolean;
  readonly assertions: readonly Assertion[];
}

/** What one process runs: its share of the connections and of the rate. */
export interface RunPlan {
  readonly mode: Mode;
  readonly target: Target;
  /** This process's connections. */
  readonly connections: number;
  /**
   * Global number of this process's first connection: connection `i` of the run uses source
   * address `127.0.0.(1 + i % sources)`, so processes do not crowd one address.
   */
  readonly firstConnection: number;
  readonly sources: number;
  readonly durationMs: number;
  readonly warmupMs: number;
  readonly message: Buffer;
  readonly reply: ReplySpec;
  /** This process's share of the rate (messages per second); 0 outside rate mode. */
  readonly rate: number;
  readonly timeoutMs: number;
  readonly connectRate: number;
  readonly send: boolean;
}

/**
 * The plans of `count` processes: connections and rate split as evenly as possible, the first
 * processes taking one connection more when the split is uneven.
 */
export function splitPlans(options: BenchOptions, count: number): RunPlan[] {
  const plans: RunPlan[] = [];
  const base = Math.floor(options.connections / count);
  const extra = options.connections % count;
  let first = 0;
  for (let i = 0; i < count; i++) {
    const connections = base + (i < extra ? 1 : 0);
    plans.push({
      mode: options.mode,
      target: options.target,
      connections,
      firstConnection: first,
      sources: options.sources,
      durationMs: options.durationMs,
      warmupMs: options.warmupMs,
      message: options.message,
      reply: options.reply,
      rate: (options.rate * connections) / options.connections,
      timeoutMs: options.timeoutMs,
      connectRate: options.connectRate,
      send: options.send,
    });
    first += connections;
  }
  return plans;
}

/** `host:port` or the socket path, for reports. */
export function describeTarget(target: Target): string {
  const secure = target.tls === undefined ? '' : ' (TLS)';
  if (target.kind === 'unix') return `${target.path}${secure}`;
  if (target.kind === 'udp') {
    return target.host.includes(':')
      ? `udp [${target.host}]:${target.port}`
      : `udp ${target.host}:${target.port}`;
  }
  return target.host.includes(':')
    ? `[${target.host}]:${target.port}${secure}`
    : `${target.host}:${target.port}${secure}`;
}
