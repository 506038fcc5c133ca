/**
 * Runs the fixture server (fixture-server.ts) as a child process and measures it from outside:
 * its port, RSS and open descriptors (from /proc), and on stop the exit code, the time from
 * SIGTERM to exit, and the summary it wrote.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nativeAvailable } from '../../src/backend.js';
import type { FixtureConfig, FixtureSummary } from './fixture-server.js';

const FIXTURE = fileURLToPath(new URL('./fixture-server.ts', import.meta.url));

/** Milliseconds the fixture may take to print its port (tsx compiles it on the way). */
const START_TIMEOUT_MS = 15_000;

/** What a stopped fixture left. */
export interface FixtureResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Milliseconds from SIGTERM to the process's exit. */
  readonly exitMs: number;
  /** The summary, or undefined if the process died without writing it. */
  readonly summary: FixtureSummary | undefined;
  readonly stderr: string;
}

export class Fixture {
  readonly port: number;
  readonly pid: number;
  readonly #child: ChildProcess;
  readonly #dir: string;
  readonly #ledgerPath: string;
  readonly #exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  #stderr = '';

  private constructor(
    child: ChildProcess,
    port: number,
    dir: string,
    exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>,
  ) {
    this.#child = child;
    this.port = port;
    this.pid = child.pid!;
    this.#dir = dir;
    this.#ledgerPath = join(dir, 'ledger.json');
    this.#exited = exited;
    child.stderr!.on('data', (chunk: Buffer) => {
      if (this.#stderr.length < 64 * 1024) this.#stderr += chunk.toString();
    });
  }

  /**
   * Starts the fixture with `config` (its ledger path is filled in). `ulimit` sets the
   * descriptor limit of the child (soft and hard) through bash before node starts.
   */
  static async start(
    config: Omit<FixtureConfig, 'ledgerPath'>,
    options: { ulimit?: number } = {},
  ): Promise<Fixture> {
    const dir = mkdtempSync(join(tmpdir(), 'aionet-reliability-'));
    const full: FixtureConfig = { ...config, ledgerPath: join(dir, 'ledger.json') };
    const args = ['--import', 'tsx', FIXTURE, JSON.stringify(full)];
    const child =
      options.ulimit === undefined
        ? spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] })
        : spawn(
            'bash',
            ['-c', `ulimit -n ${options.ulimit} && exec "$0" "$@"`, process.execPath, ...args],
            { stdio: ['ignore', 'pipe', 'pipe'] },
          );
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    let early = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      early += chunk.toString();
    });
    const port = await new Promise<number>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error('fixture did not start')), START_TIMEOUT_MS);
      child.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const match = /listening (\d+)/.exec(out);
        if (match !== null) {
          clearTimeout(timer);
          resolve(Number(match[1]));
        }
      });
      void exited.then(({ code }) => {
        clearTimeout(timer);
        reject(new Error(`fixture exited (${code}) before listening: ${early}`));
      });
    });
    const fixture = new Fixture(child, port, dir, exited);
    fixture.#stderr = early;
    return fixture;
  }

  /** Resident set size in bytes, from /proc. */
  rss(): number {
    const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
    const match = /VmRSS:\s+(\d+) kB/.exec(status);
    return match === null ? 0 : Number(match[1]) * 1024;
  }

  /** Open file descriptors, from /proc. */
  fds(): number {
    return readdirSync(`/proc/${this.pid}/fd`).length;
  }

  /** True while the process runs. */
  get alive(): boolean {
    return this.#child.exitCode === null && this.#child.signalCode === null;
  }

  get stderr(): string {
    return this.#stderr;
  }

  /** The fixture's summary so far (SIGUSR2), without stopping it. */
  async snapshot(timeoutMs = 5000): Promise<FixtureSummary> {
    const path = `${this.#ledgerPath}.snapshot`;
    rmSync(path, { force: true });
    this.#child.kill('SIGUSR2');
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      try {
        const summary = JSON.parse(readFileSync(path, 'utf8')) as FixtureSummary;
        rmSync(path, { force: true });
        return summary;
      } catch (error) {
        // Not written yet (or half written): wait a little.
        if (performance.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
  }

  /** Sends SIGTERM and waits for the exit (SIGKILL after `timeoutMs`). */
  async stop(timeoutMs = 15_000): Promise<FixtureResult> {
    const started = performance.now();
    if (this.alive) this.#child.kill('SIGTERM');
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), timeoutMs);
    const { code, signal } = await this.#exited;
    const exitMs = performance.now() - started;
    clearTimeout(timer);
    let summary: FixtureSummary | undefined;
    try {
      summary = JSON.parse(readFileSync(this.#ledgerPath, 'utf8')) as FixtureSummary;
    } catch {
      summary = undefined;
    }
    rmSync(this.#dir, { recursive: true, force: true });
    return { code, signal, exitMs, summary, stderr: this.#stderr };
  }

  /** Kills the process at once (cleanup after a failed scenario). */
  kill(): void {
    if (this.alive) this.#child.kill('SIGKILL');
    rmSync(this.#dir, { recursive: true, force: true });
  }
}

/**
 * The transports to run the scenarios on: `net`, plus `native` where the addon is built.
 * `AIONET_RELIABILITY_TRANSPORTS=net` (a comma list) narrows it.
 */
export function transports(): ('net' | 'native')[] {
  const wanted = process.env.AIONET_RELIABILITY_TRANSPORTS?.split(',') ?? ['net', 'native'];
  return (['net', 'native'] as const).filter(
    (name) => wanted.includes(name) && (name === 'net' || nativeAvailable()),
  );
}
