/**
 * Rate mode, an open loop: messages are due at a fixed total rate, spread evenly over the
 * connections (each connection every `connections / rate` seconds, staggered). Each connection
 * keeps at most one message in flight; when a reply comes late, the next message goes out at
 * once and its latency still runs from its *intended* send time. A stalled server therefore
 * shows its whole queue in the latencies instead of slowing the generator down to its pace
 * (wrk2's correction of coordinated omission).
 */
import { type BenchConnection, OPEN } from './connection.js';
import { DueQueue } from './due-queue.js';
import { ModeRun } from './mode-run.js';
import type { RunPlan } from './options.js';
import type { ProcessResult } from './summary.js';

/**
 * Below this wait, in milliseconds, the scheduler polls with `setImmediate` instead of a timer:
 * Node timers have a 1 ms granularity, and lateness of the generator would count as latency.
 */
const SPIN_BELOW_MS = 1;

/** A rate run of one process. */
export class RateRun extends ModeRun {
  /** Milliseconds between two messages of one connection. */
  readonly #intervalMs: number;
  /** Milliseconds between two messages of the process, the stagger between connections. */
  readonly #staggerMs: number;
  readonly #agenda = new DueQueue();
  /** The due time each slot's live agenda entry has; older entries for it are stale. */
  readonly #dueAt: Float64Array;
  readonly #started: Uint8Array;
  #timer: NodeJS.Timeout | undefined;
  #immediate: NodeJS.Immediate | undefined;
  /** Due time the timer or immediate was armed for, `Infinity` when none is. */
  #armedFor = Number.POSITIVE_INFINITY;

  constructor(plan: RunPlan) {
    super(plan);
    this.#staggerMs = 1000 / plan.rate;
    this.#intervalMs = plan.connections * this.#staggerMs;
    this.#dueAt = new Float64Array(plan.connections);
    this.#started = new Uint8Array(plan.connections);
  }

  async run(): Promise<ProcessResult> {
    const start = performance.now();
    await this.pool.openAll(this.connectDeadline(start));
    const opened = performance.now();
    const windowStart = opened + this.plan.warmupMs;
    this.recorder.open(windowStart, this.plan.durationMs);
    this.phase = 'warmup';
    await this.sleepUntil(windowStart);
    const connected = this.pool.up;
    this.phase = 'measuring';
    await this.sleepUntil(this.recorder.end);
    this.#disarm();
    this.#agenda.clear();
    return this.finish({ connected, connectMs: opened - start });
  }

  onConnected(connection: BenchConnection, now: number): void {
    if (!this.running) return;
    // The first connect staggers the slots over one interval; after a reconnect the schedule
    // restarts now: messages due while the connection was down were never sent, and the
    // failure was counted already.
    const index = connection.index;
    const offset = this.#started[index] === 1 ? 0 : index * this.#staggerMs;
    this.#started[index] = 1;
    connection.intendedAt = now + offset;
    this.#schedule(connection, now);
  }

  onReply(connection: BenchConnection, now: number): void {
    this.recorder.complete(now, now - connection.intendedAt);
    if (!this.running) return;
    connection.intendedAt += this.#intervalMs;
    this.#schedule(connection, now);
  }

  onFailure(connection: BenchConnection): void {
    if (this.running) this.pool.reconnectLater(connection);
  }

  /** Sends the connection's next message now if it is due, else puts it on the agenda. */
  #schedule(connection: BenchConnection, now: number): void {
    const due = connection.intendedAt;
    if (due <= now) {
      connection.send(now);
      return;
    }
    this.#dueAt[connection.index] = due;
    this.#agenda.push(due, connection.index);
    if (due < this.#armedFor) this.#arm(now);
  }

  /** Arms the timer (or the immediate) for the agenda's earliest entry. */
  #arm(now: number): void {
    this.#disarm();
    const due = this.#agenda.peekTime();
    if (due === Number.POSITIVE_INFINITY || !this.running) return;
    this.#armedFor = due;
    const waitMs = due - now;
    if (waitMs < SPIN_BELOW_MS) {
      this.#immediate = setImmediate(this.#fire);
    } else {
      this.#timer = setTimeout(this.#fire, Math.floor(waitMs - SPIN_BELOW_MS / 2));
    }
  }

  #disarm(): void {
    clearTimeout(this.#timer);
    clearImmediate(this.#immediate);
    this.#timer = undefined;
    this.#immediate = undefined;
    this.#armedFor = Number.POSITIVE_INFINITY;
  }

  /** Sends every message that is due. */
  readonly #fire = (): void => {
    this.#timer = undefined;
    this.#immediate = undefined;
    this.#armedFor = Number.POSITIVE_INFINITY;
    const agenda = this.#agenda;
    const connections = this.pool.connections;
    const now = performance.now();
    while (agenda.peekTime() <= now) {
      const due = agenda.peekTime();
      const index = agenda.peekSlot();
      agenda.pop();
      const connection = connections[index];
      if (connection === undefined || this.#dueAt[index] !== due) continue;
      this.#dueAt[index] = 0;
      if (connection.state === OPEN && connection.intendedAt === due) connection.send(now);
    }
    this.#arm(now);
  };
}
