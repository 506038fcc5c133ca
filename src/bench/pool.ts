/**
 * The connection pool of one process: its connection slots, the pacing of their connects, the
 * sweep that times out slow connects and replies, reconnects after failures, and the counts
 * every mode reports (connections up, errors by kind).
 *
 * A mode plugs in through {@link PoolHooks} and decides what a connection does once it is up,
 * when a reply arrives, and whether a failed connection comes back.
 */
import {
  BenchConnection,
  CONNECTING,
  type ConnectionListener,
  type ConnectTarget,
  IDLE,
  WAITING,
} from './connection.js';
import { type ErrorCounts, type ErrorKind, emptyErrorCounts } from './error-kinds.js';
import type { RunPlan } from './options.js';

/**
 * Most connects in progress at once per process. A connect completes as soon as the kernel
 * queues it for `accept()`; once a slow server's accept queue is full, new SYNs are dropped and
 * retried by the kernel after 1 s, 3 s… This cap keeps such stuck attempts to a few hundred,
 * so the pacing, not the kernel's retry timers, sets the pace.
 */
const MAX_CONNECTS_IN_FLIGHT = 256;

/**
 * Pause before a failed connection reconnects, in milliseconds: a refusing server then costs
 * 20 attempts per second and connection, not a busy loop.
 */
export const RECONNECT_DELAY_MS = 50;

/** Sweep period bounds, in milliseconds: a tenth of the timeout, within these. */
const SWEEP_MIN_MS = 10;
const SWEEP_MAX_MS = 100;

/** What a mode does with its connections. Times are `performance.now()` milliseconds. */
export interface PoolHooks {
  /** A connection is up (for the first time or again). */
  onConnected(connection: BenchConnection, now: number): void;
  /** A correct reply arrived on a connection; it is open, with nothing in flight. */
  onReply(connection: BenchConnection, now: number): void;
  /** A connection failed (already counted); it is idle. */
  onFailure(connection: BenchConnection): void;
}

/** The connections of one process. */
export class ConnectionPool implements ConnectionListener {
  readonly connections: readonly BenchConnection[];
  readonly errors: ErrorCounts = emptyErrorCounts();

  readonly #hooks: PoolHooks;
  readonly #connectRate: number;
  readonly #timeoutMs: number;
  /** Slots waiting for their turn to connect, in order. */
  readonly #queue: BenchConnection[] = [];
  #queueHead = 0;
  #inFlight = 0;
  #tokens = 1;
  #tokensAt = 0;
  #pumpTimer: NodeJS.Timeout | undefined;
  #sweepTimer: NodeJS.Timeout | undefined;
  readonly #reconnectTimers = new Set<NodeJS.Timeout>();
  #up = 0;
  #settled = 0;
  readonly #attempted: Uint8Array;
  #onAllSettled: (() => void) | undefined;
  #stopped = false;

  constructor(plan: RunPlan, hooks: PoolHooks) {
    this.#hooks = hooks;
    this.#connectRate = plan.connectRate;
    this.#timeoutMs = plan.timeoutMs;
    this.#attempted = new Uint8Array(plan.connections);
    const connections: BenchConnection[] = [];
    for (let index = 0; index < plan.connections; index++) {
      connections.push(
        new BenchConnection({
          index,
          target: connectTarget(plan, plan.firstConnection + index),
          message: plan.message,
          reply: plan.reply,
          listener: this,
        }),
      );
    }
    this.connections = connections;
    const sweepMs = Math.min(SWEEP_MAX_MS, Math.max(SWEEP_MIN_MS, plan.timeoutMs / 10));
    this.#sweepTimer = setInterval(this.#sweep, sweepMs);
  }

  /** Connections up now. */
  get up(): number {
    return this.#up;
  }

  /** Connections with a message in flight. */
  countWaiting(): number {
    let waiting = 0;
    for (const connection of this.connections) if (connection.state === WAITING) waiting++;
    return waiting;
  }

  /**
   * Connects every slot, paced at the connect rate, and resolves once each has connected or
   * failed once, or at `deadline` (`performance.now()` ms), whichever comes first.
   */
  openAll(deadline: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, Math.max(0, deadline - performance.now()));
      const self = this;
      function done(): void {
        clearTimeout(timer);
        self.#onAllSettled = undefined;
        resolve();
      }
      this.#onAllSettled = done;
      for (const connection of this.connections) this.#queue.push(connection);
      this.#pump();
      if (this.connections.length === 0) done();
    });
  }

  /**
   * Ends the connect phase: every connect still in progress, or still waiting for its turn,
   * fails as a `connect_timeout` (hold mode, where a connection must be up when holding starts).
   */
  abandonConnects(): void {
    for (let i = this.#queueHead; i < this.#queue.length; i++) {
      if (this.#queue[i]?.state === IDLE) this.errors.connect_timeout++;
    }
    this.#queue.length = 0;
    this.#queueHead = 0;
    for (const connection of this.connections) {
      if (connection.state === CONNECTING) connection.fail('connect_timeout');
    }
  }

  /** Connects a slot at once, bypassing the pacing (churn's cycles). */
  connectNow(connection: BenchConnection, now: number): void {
    if (this.#stopped || connection.state !== IDLE) return;
    this.#inFlight++;
    connection.connect(now);
  }

  /** Reconnects a failed slot after {@link RECONNECT_DELAY_MS}, paced like the first connects. */
  reconnectLater(connection: BenchConnection): void {
    if (this.#stopped) return;
    const timer = setTimeout(() => {
      this.#reconnectTimers.delete(timer);
      if (this.#stopped || connection.state !== IDLE) return;
      this.#queue.push(connection);
      this.#pump();
    }, RECONNECT_DELAY_MS);
    this.#reconnectTimers.add(timer);
  }

  /** Closes a connection the mode is done with (churn), keeping the counts right. */
  release(connection: BenchConnection): void {
    if (connection.state !== IDLE && connection.state !== CONNECTING) this.#up--;
    connection.close();
  }

  /** Stops every timer and destroys every socket. Idempotent. */
  stop(): void {
    this.#stopped = true;
    clearInterval(this.#sweepTimer);
    clearTimeout(this.#pumpTimer);
    for (const timer of this.#reconnectTimers) clearTimeout(timer);
    this.#reconnectTimers.clear();
    this.#queue.length = 0;
    this.#queueHead = 0;
    for (const connection of this.connections) connection.close();
    this.#up = 0;
    this.#inFlight = 0;
    this.#onAllSettled?.();
  }

  connected(connection: BenchConnection, now: number): void {
    this.#inFlight--;
    this.#up++;
    this.#noteSettled(connection);
    if (this.#queueHead < this.#queue.length) this.#pump();
    this.#hooks.onConnected(connection, now);
  }

  replied(connection: BenchConnection, now: number): void {
    this.#hooks.onReply(connection, now);
  }

  failed(connection: BenchConnection, kind: ErrorKind, wasUp: boolean): void {
    this.errors[kind]++;
    if (wasUp) {
      this.#up--;
    } else {
      this.#inFlight--;
      this.#noteSettled(connection);
      if (this.#queueHead < this.#queue.length) this.#pump();
    }
    if (!this.#stopped) this.#hooks.onFailure(connection);
  }

  #noteSettled(connection: BenchConnection): void {
    if (this.#attempted[connection.index] === 1) return;
    this.#attempted[connection.index] = 1;
    this.#settled++;
    if (this.#settled === this.connections.length) this.#onAllSettled?.();
  }

  /** Starts as many queued connects as the rate and the in-flight cap allow. */
  readonly #pump = (): void => {
    clearTimeout(this.#pumpTimer);
    this.#pumpTimer = undefined;
    if (this.#stopped) return;
    const now = performance.now();
    const rate = this.#connectRate;
    this.#tokens = Math.min(
      Math.max(1, rate / 100),
      this.#tokens + ((now - this.#tokensAt) * rate) / 1000,
    );
    this.#tokensAt = now;
    while (
      this.#queueHead < this.#queue.length &&
      this.#inFlight < MAX_CONNECTS_IN_FLIGHT &&
      this.#tokens >= 1
    ) {
      const connection = this.#queue[this.#queueHead++];
      if (connection === undefined || connection.state !== IDLE) continue;
      this.#tokens--;
      this.#inFlight++;
      connection.connect(now);
    }
    if (this.#queueHead >= this.#queue.length) {
      this.#queue.length = 0;
      this.#queueHead = 0;
    } else if (this.#inFlight < MAX_CONNECTS_IN_FLIGHT) {
      // Out of tokens: come back when the next one is due.
      const waitMs = Math.max(1, Math.ceil(((1 - this.#tokens) * 1000) / rate));
      this.#pumpTimer = setTimeout(this.#pump, waitMs);
    }
  };

  /** Fails connects and replies older than the timeout. */
  readonly #sweep = (): void => {
    const now = performance.now();
    const oldest = now - this.#timeoutMs;
    for (const connection of this.connections) {
      const state = connection.state;
      if (state === CONNECTING && connection.connectStartedAt < oldest) {
        connection.fail('connect_timeout');
      } else if (state === WAITING && connection.sentAt < oldest) {
        connection.fail('reply_timeout');
      }
    }
  };
}

/** Where connection number `global` of the run connects from and to. */
function connectTarget(plan: RunPlan, global: number): ConnectTarget {
  const target = plan.target;
  if (target.kind === 'udp') return { udp: true, host: target.host, port: target.port };
  const secure = target.tls === undefined ? {} : { tls: target.tls };
  if (target.kind === 'unix') return { path: target.path, ...secure };
  if (plan.sources === 0) return { host: target.host, port: target.port, ...secure };
  const localAddress = `127.0.0.${1 + (global % plan.sources)}`;
  return { host: target.host, port: target.port, localAddress, ...secure };
}
