/**
 * Starts the flood worker (flood-worker.ts) as a child process and collects its report.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { FloodOrders, FloodReport } from './flood-worker.js';

const WORKER = fileURLToPath(new URL('./flood-worker.ts', import.meta.url));

export class FloodWorker {
  readonly #child: ChildProcess;
  readonly #output: Promise<string>;

  private constructor(child: ChildProcess, output: Promise<string>) {
    this.#child = child;
    this.#output = output;
  }

  /** Starts the worker; resolves once it is ready to flood. */
  static async start(orders: FloodOrders): Promise<FloodWorker> {
    const child = spawn(process.execPath, ['--import', 'tsx', WORKER, JSON.stringify(orders)], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    let out = '';
    let ready: () => void = () => {};
    const isReady = new Promise<void>((resolve) => {
      ready = resolve;
    });
    const output = new Promise<string>((resolve, reject) => {
      child.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.startsWith('ready\n')) ready();
      });
      child.once('exit', (code) => {
        if (code === 0) resolve(out.slice('ready\n'.length));
        else reject(new Error(`flood worker exited ${code}`));
      });
    });
    await Promise.race([isReady, output]);
    return new FloodWorker(child, output);
  }

  /** Starts or restarts the flood. */
  on(): void {
    this.#child.stdin!.write('on\n');
  }

  /** Pauses the flood (attempts in flight finish). */
  off(): void {
    this.#child.stdin!.write('off\n');
  }

  /** Ends the flood and returns every attempt it made. */
  async report(): Promise<FloodReport> {
    this.#child.stdin!.end('end\n');
    return JSON.parse(await this.#output) as FloodReport;
  }

  kill(): void {
    if (this.#child.exitCode === null) this.#child.kill('SIGKILL');
  }
}
