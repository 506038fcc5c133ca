/**
 * Processes of the benchmark suite: the servers under test (pinned to CPU 0, stdout to
 * /dev/null, stopped by PID only) and the C load generator of ../shared/bench (pinned to CPU 1;
 * copied to a temp dir and built there when no built copy exists).
 */
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { closeSync, cpSync, existsSync, mkdirSync, openSync } from 'node:fs';
import net from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sleep } from './proc.js';
import { parseResult } from './stats.js';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SERVER_CPU = process.env.SERVER_CPU ?? '0';
export const LOADGEN_CPU = process.env.LOADGEN_CPU ?? '1';
/** Servers' stderr: <label>.stderr here. */
export const LOG_DIR = process.env.BENCH_LOGS ?? '/tmp/aionet-bench-logs';

/** ../shared/bench beside the checkout (CI), or /work/shared/bench, or $SHARED_BENCH. */
export function sharedBench(): string {
  const candidates = [
    process.env.SHARED_BENCH,
    join(ROOT, '..', 'shared', 'bench'),
    '/work/shared/bench',
  ].filter((p): p is string => p !== undefined);
  const found = candidates.find((p) => existsSync(join(p, 'loadgen.c')));
  if (found === undefined)
    throw new Error(`shared bench not found (tried ${candidates.join(', ')})`);
  return found;
}

/** A built loadgen: $LOADGEN, or the shared folder copied to /tmp/aionet-bench and built. */
export function loadgenPath(shared: string): string {
  if (process.env.LOADGEN !== undefined) return process.env.LOADGEN;
  const dir = process.env.BENCH_TMP ?? '/tmp/aionet-bench';
  const built = join(dir, 'loadgen');
  if (!existsSync(built)) {
    cpSync(shared, dir, { recursive: true });
    execFileSync('chmod', ['-R', 'u+w', dir]);
    execFileSync('bash', [join(dir, 'build.sh')], { stdio: 'inherit' });
  }
  return built;
}

export interface ServerSpec {
  readonly label: string;
  readonly argv: (port: number) => string[];
  /** loadgen flags for this server's reply (e.g. `--reply` for line framing). */
  readonly replyArgs: readonly string[];
  /** Whether hold and churn are measured too (not for the framing variant). */
  readonly full: boolean;
  /**
   * The same server framing lines, for the bytes per connection when every one of 10,000
   * holds a partial line (issue 6; native only).
   */
  readonly partialArgv?: (port: number) => string[];
}

/** The command line of `aionet serve --quiet` on 127.0.0.1:`port`, with `extra` flags last. */
export function aionetServe(
  port: number,
  transport: string,
  framing: string,
  extra: readonly string[] = [],
): string[] {
  return [
    process.execPath,
    join(ROOT, 'bin', 'aionet.js'),
    'serve',
    '--quiet',
    '--host',
    '127.0.0.1',
    '--port',
    String(port),
    '--transport',
    transport,
    '--framing',
    framing,
    ...extra,
  ];
}

const aionet =
  (transport: string, framing: string) =>
  (port: number): string[] =>
    aionetServe(port, transport, framing);

function which(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Every server the suite knows, those that cannot run here left out. */
export function serverSpecs(shared: string): ServerSpec[] {
  const specs: ServerSpec[] = [
    {
      label: 'node_net',
      argv: (port) => [process.execPath, join(shared, 'anchors', 'node_net.mjs'), String(port)],
      replyArgs: [],
      full: true,
    },
    { label: 'aionet', argv: aionet('net', 'none'), replyArgs: [], full: true },
    {
      label: 'aionet_line',
      argv: aionet('net', 'line'),
      replyArgs: ['--reply', 'Message received\\n'],
      full: false,
    },
  ];
  if (existsSync(join(ROOT, 'native', 'build', 'Release', 'aionet.node'))) {
    specs.push({
      label: 'native',
      argv: aionet('native', 'none'),
      replyArgs: [],
      full: true,
      partialArgv: aionet('native', 'line'),
    });
    // The default command with line framing (auto = native here): issue 3's line-framing ratio.
    specs.push({
      label: 'native_line',
      argv: aionet('native', 'line'),
      replyArgs: ['--reply', 'Message received\\n'],
      full: false,
    });
  }
  if (which('python3')) {
    // The chapter's server, prints and all; its stdout goes to /dev/null like the shared harness.
    specs.push({
      label: 'asyncio',
      argv: (port) => ['python3', join(shared, 'anchors', 'seed_asyncio_port.py'), String(port)],
      replyArgs: [],
      full: true,
    });
  }
  const bun = join(ROOT, 'node_modules', '.bin', 'bun');
  if (existsSync(bun)) {
    specs.push({
      label: 'bun',
      argv: (port) => [bun, join(ROOT, 'bench', 'native-bun-listen.ts'), String(port)],
      replyArgs: [],
      full: true,
    });
  }
  return specs;
}

export function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
    socket.setTimeout(1000, () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/** Runs the C loadgen on the load generator CPU; resolves with its output (never rejects). */
export function runLoadgen(
  loadgen: string,
  args: readonly string[],
  timeoutMs = 300_000,
): Promise<string> {
  return new Promise((resolve) => {
    execFile(
      'taskset',
      ['-c', LOADGEN_CPU, loadgen, ...args],
      { encoding: 'utf8', maxBuffer: 1 << 24, timeout: timeoutMs, killSignal: 'SIGKILL' },
      (_error, stdout, stderr) => resolve(`${stdout}${stderr}`),
    );
  });
}

/** A server process pinned to the server CPU (taskset execs it: the child's pid is the server's). */
export class Server {
  private constructor(
    readonly child: ChildProcess,
    readonly port: number,
    readonly label: string,
  ) {}

  static async start(spec: ServerSpec, port: number, loadgen: string): Promise<Server> {
    if (await accepts(port))
      throw new Error(`port ${port} is already in use; not starting ${spec.label}`);
    const env: NodeJS.ProcessEnv = { ...process.env, GOMAXPROCS: '1' };
    delete env.PYTHONUNBUFFERED;
    // stderr (connection resets logged at the end of a run, etc.) goes to a log file.
    mkdirSync(LOG_DIR, { recursive: true });
    const stderr = openSync(join(LOG_DIR, `${spec.label}.stderr`), 'a');
    const child = spawn('taskset', ['-c', SERVER_CPU, ...spec.argv(port)], {
      stdio: ['ignore', 'ignore', stderr],
      env,
    });
    closeSync(stderr);
    const server = new Server(child, port, spec.label);
    const deadline = Date.now() + 20_000;
    while (!(await accepts(port))) {
      if (Date.now() > deadline || child.exitCode !== null || child.signalCode !== null) {
        await server.stop();
        throw new Error(`${spec.label} did not listen on ${port}`);
      }
      await sleep(50);
    }
    // The pre-warm connection of run_server_bench.sh (1 s at C=1, then closed).
    await runLoadgen(
      loadgen,
      ['pingpong', '--port', String(port), '-c', '1', '-w', '0', '-d', '1', ...spec.replyArgs],
      30_000,
    );
    await sleep(300);
    return server;
  }

  get pid(): number {
    const pid = this.child.pid;
    if (pid === undefined) throw new Error(`${this.label}: no pid`);
    return pid;
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** SIGTERM, then SIGKILL after 3 s; waits until the port is free (bounded). */
  async stop(): Promise<void> {
    if (this.alive) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    }
    for (let i = 0; i < 50 && (await accepts(this.port)); i++) await sleep(100);
  }
}

/** Starts loadgen `hold` in the background; `waitPhase` resolves when a PHASE line is printed. */
export function startHold(loadgen: string, args: readonly string[]) {
  const child = spawn('taskset', ['-c', LOADGEN_CPU, loadgen, 'hold', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.setEncoding('utf8').on('data', (t: string) => {
    out += t;
  });
  child.stderr?.setEncoding('utf8').on('data', (t: string) => {
    out += t;
  });
  const done = new Promise<Record<string, string>>((resolve) => {
    child.once('exit', () => resolve(parseResult(out)));
  });
  const killer = setTimeout(() => child.kill('SIGKILL'), 300_000);
  void done.then(() => clearTimeout(killer));
  return {
    done,
    async waitPhase(phase: string, timeoutMs: number): Promise<boolean> {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        if (out.includes(`PHASE phase=${phase}`)) return true;
        if (child.exitCode !== null || child.signalCode !== null) return false;
        await sleep(100);
      }
      return false;
    },
  };
}
