/**
 * Hold mode: open every connection at the connect rate, verify one round trip on each (unless
 * `--no-send`), hold them idle for the duration, then close them. The result says how many
 * were still open, and verified, at the end; a connection the server drops meanwhile counts as
 * `closed_early`. Nothing reconnects: a lost connection stays lost.
 */
import { type BenchConnection, OPEN } from './connection.js';
import { ModeRun } from './mode-run.js';
import type { ProcessResult } from './summary.js';

/** A hold run of one process. */
export class HoldRun extends ModeRun {
  async run(): Promise<ProcessResult> {
    const start = performance.now();
    // Every verifying round trip is recorded, whenever it happens.
    this.recorder.open(start, Number.POSITIVE_INFINITY);
    await this.pool.openAll(this.connectDeadline(start));
    if (this.plan.send) {
      this.phase = 'verifying';
      const deadline = performance.now() + this.plan.timeoutMs + this.plan.timeoutMs / 10;
      await this.waitFor(() => this.pool.countWaiting() === 0, deadline);
    }
    const holdStart = performance.now();
    const connected = this.pool.up;
    this.phase = 'holding';
    await this.sleepUntil(holdStart + this.plan.durationMs);
    const holdEnd = performance.now();
    const held = this.#countHeld();
    const result = this.finish({ connected, connectMs: holdStart - start, held });
    // The hold, not the connect phase, is this mode's window.
    return { ...result, windowMs: holdEnd - holdStart };
  }

  onConnected(connection: BenchConnection, now: number): void {
    if (this.running && this.plan.send) connection.send(now);
  }

  onReply(connection: BenchConnection, now: number): void {
    this.recorder.complete(now, now - connection.sentAt);
  }

  onFailure(): void {
    // A held connection that fails stays closed: that is what hold measures.
  }

  /** Open connections with nothing in flight: verified, or never asked (`--no-send`). */
  #countHeld(): number {
    let held = 0;
    for (const connection of this.pool.connections) if (connection.state === OPEN) held++;
    return held;
  }
}
