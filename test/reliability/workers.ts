/**
 * Starts the attack worker (attack-worker.ts) as a child process, switches it on and off, and
 * collects its reports (JSON lines on its stdout).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { AttackOrders, AttackReport } from './attack-worker.js';

const WORKER = fileURLToPath(new URL('./attack-worker.ts', import.meta.url));

/** Milliseconds a report may take: a slowloris wave waits for the server's idle deadline. */
const REPORT_TIMEOUT_MS = 30_000;

export class AttackWorker {
  readonly #child: ChildProcess;
  readonly #lines: string[] = [];
  #waiting: ((line: string | undefined) => void) | undefined;
  #exited = false;

  private constructor(child: ChildProcess) {
    this.#child = child;
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (this.#waiting === undefined) this.#lines.push(line);
      else this.#take(line);
    });
    child.once('exit', () => {
      this.#exited = true;
      this.#take(undefined);
    });
  }

  /** Starts the worker; resolves once it is ready. */
  static async start(orders: AttackOrders): Promise<AttackWorker> {
    const child = spawn(process.execPath, ['--import', 'tsx', WORKER, JSON.stringify(orders)], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const worker = new AttackWorker(child);
    const ready = await worker.#nextLine();
    if (ready !== 'ready') throw new Error(`attack worker did not start: ${ready}`);
    return worker;
  }

  /** Starts (or restarts) a flood; opens a slowloris wave. */
  on(): void {
    this.#child.stdin!.write('on\n');
  }

  /** Pauses a flood (attempts in flight finish). */
  off(): void {
    this.#child.stdin!.write('off\n');
  }

  /** Opens a slowloris wave and returns its report once the server closed all of it. */
  async wave(): Promise<AttackReport> {
    this.on();
    return JSON.parse((await this.#nextLine()) ?? '[]') as AttackReport;
  }

  /** Returns a flood's attempts finished since the last call. */
  async collect(): Promise<AttackReport> {
    this.#child.stdin!.write('report\n');
    return JSON.parse((await this.#nextLine()) ?? '[]') as AttackReport;
  }

  /** Ends a flood and returns the attempts not collected yet. */
  async report(): Promise<AttackReport> {
    this.#child.stdin!.end('end\n');
    return JSON.parse((await this.#nextLine()) ?? '[]') as AttackReport;
  }

  kill(): void {
    if (!this.#exited) this.#child.kill('SIGKILL');
  }

  #take(line: string | undefined): void {
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting?.(line);
  }

  #nextLine(): Promise<string | undefined> {
    const line = this.#lines.shift();
    if (line !== undefined || this.#exited) return Promise.resolve(line);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiting = undefined;
        reject(new Error('attack worker did not report in time'));
      }, REPORT_TIMEOUT_MS);
      this.#waiting = (next) => {
        clearTimeout(timer);
        resolve(next);
      };
    });
  }
}
