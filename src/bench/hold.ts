/**
 * Hold mode: open every connection at the connect rate, then verify one round trip on each
 * (unless `--no-send`), hold them idle for the duration, and close them. The result says how
 * many were still open, and verified, at the end; a connection the server drops meanwhile
 * counts as `closed_early`. Nothing reconnects: a lost connection stays lost.
 *
 * Connecting and verifying are separate phases, as in the C load generator: while it accepts
 * thousands of connections, the server does nothing else, and `connect_s` measures accepting
 * alone.
 */
import { type BenchConnection, OPEN } from './connection.js';
import { ModeRun } from './mode-run.js';
import type { RunPlan } from './options.js';
import type { ProcessResult } from './summary.js';

/** A hold run of one process. */
export class HoldRun extends ModeRun {
  /** 1 for each connection whose reply was verified. */
  readonly #verified: Uint8Array;

  constructor(plan: RunPlan) {
    super(plan);
    this.#verified = new Uint8Array(plan.connections);
  }

  async run(): Promise<ProcessResult> {
    const start = performance.now();
    // Every verifying round trip is recorded, whenever it happens.
    this.recorder.open(start, Number.POSITIVE_INFINITY);
    await this.pool.openAll(this.connectDeadline(start));
    this.pool.abandonConnects();
    const opened = performance.now();
    if (this.plan.send) {
      this.phase = 'verifying';
      for (const connection of this.pool.connections) {
        if (connection.state === OPEN) connection.send(opened);
      }
      // The sweep fails replies older than the timeout; allow it one more period to do so.
      const deadline = opened + this.plan.timeoutMs * 1.1;
      await this.waitFor(() => this.pool.countWaiting() === 0, deadline);
    }
    const holdStart = performance.now();
    const connected = this.pool.up;
    this.phase = 'holding';
    await this.sleepUntil(holdStart + this.plan.durationMs);
    const holdEnd = performance.now();
    const held = this.#countHeld();
    const result = this.finish({
      connected,
      connectMs: opened - start,
      verifyMs: holdStart - opened,
      held,
    });
    // The hold, not the connect phase, is this mode's window.
    return { ...result, windowMs: holdEnd - holdStart };
  }

  onConnected(): void {
    // Connections stay silent until every one is open.
  }

  onReply(connection: BenchConnection, now: number): void {
    this.#verified[connection.index] = 1;
    this.recorder.complete(now, now - connection.sentAt);
  }

  onFailure(): void {
    // A held connection that fails stays closed: that is what hold measures.
  }

  /** Open connections with nothing in flight, verified unless `--no-send`. */
  #countHeld(): number {
    let held = 0;
    for (const connection of this.pool.connections) {
      const verified = !this.plan.send || this.#verified[connection.index] === 1;
      if (connection.state === OPEN && verified) held++;
    }
    return held;
  }
}
