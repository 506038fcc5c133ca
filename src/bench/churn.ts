/**
 * Churn mode: each of the concurrent slots connects, sends the message, awaits the reply,
 * closes, and starts over at once. A cycle's latency runs from the start of its connect to its
 * verified reply; throughput is reported as connections per second.
 */
import type { BenchConnection } from './connection.js';
import { ModeRun } from './mode-run.js';
import type { ProcessResult } from './summary.js';

/** A churn run of one process. */
export class ChurnRun extends ModeRun {
  async run(): Promise<ProcessResult> {
    const start = performance.now();
    const windowStart = start + this.plan.warmupMs;
    this.recorder.open(windowStart, this.plan.durationMs);
    this.phase = 'warmup';
    for (const connection of this.pool.connections) this.pool.connectNow(connection, start);
    await this.sleepUntil(windowStart);
    const connected = this.pool.up;
    this.phase = 'measuring';
    await this.sleepUntil(this.recorder.end);
    return this.finish({ connected, connectMs: 0 });
  }

  onConnected(connection: BenchConnection, now: number): void {
    if (this.running) connection.send(now);
  }

  onReply(connection: BenchConnection, now: number): void {
    this.recorder.complete(now, now - connection.connectStartedAt);
    this.pool.release(connection);
    if (this.running) this.pool.connectNow(connection, now);
  }

  onFailure(connection: BenchConnection): void {
    if (this.running) this.pool.reconnectLater(connection);
  }
}
