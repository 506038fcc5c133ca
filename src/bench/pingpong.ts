/**
 * Pingpong mode, a closed loop: each connection sends the message, waits for the full reply,
 * and sends again at once. Throughput is bounded by latency times connections; a failed
 * connection comes back after a short pause, so errors keep being counted.
 */
import type { BenchConnection } from './connection.js';
import { ModeRun } from './mode-run.js';
import type { ProcessResult } from './summary.js';

/** A pingpong run of one process. */
export class PingPongRun extends ModeRun {
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
    return this.finish({ connected, connectMs: opened - start });
  }

  onConnected(connection: BenchConnection, now: number): void {
    if (this.running) connection.send(now);
  }

  onReply(connection: BenchConnection, now: number): void {
    this.recorder.complete(now, now - connection.sentAt);
    if (this.running) connection.send(now);
  }

  onFailure(connection: BenchConnection): void {
    if (this.running) this.pool.reconnectLater(connection);
  }
}
