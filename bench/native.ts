/**
 * The native transport against the references, on the shared load generator: raw Node `net`
 * (../shared/bench/anchors/node_net.mjs), `aionet serve` on the native and the net transport,
 * and Bun.listen (the `bun` dev dependency). Each server runs pinned to CPU 0, the load
 * generator to CPU 1; the servers take turns in each round and the figures are medians.
 *
 * `aionet serve` runs with `--log-level error`, so nothing is kept per connection for logging
 * (on `net` the error log otherwise asks each socket for its peer: see docs/operations.md).
 *
 * Per server and round: msgs/s at 100 and 1,000 connections (5 s each after a 2 s warm-up run)
 * with the server's user CPU per message (utime from /proc/<pid>/stat over the measured run);
 * churn (connect, message, close, 64 at a time); then on a fresh instance the resident memory
 * per connection with 10,000 idle connections held, and (aionet only, `--framing line`) with
 * every one of them holding a partial line.
 *
 * Run: npx tsx bench/native.ts              (REPEATS=3 rounds, about 6 minutes)
 * Env: REPEATS, PORT (7400), ONLY="native node_net" (labels), SHARED_BENCH (../shared/bench),
 *      LOADGEN (a built loadgen; default: SHARED_BENCH copied to /tmp/aionet-bench and built).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PARTIAL_HOLD_ARGS } from './lib/measure.js';
import { aionetServe } from './lib/servers.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const SHARED_BENCH = process.env.SHARED_BENCH ?? join(ROOT, '..', 'shared', 'bench');
const REPEATS = Number(process.env.REPEATS ?? 3);
const PORT = Number(process.env.PORT ?? 7400);
/** Connections held for the memory figures (as ../shared/bench's run_server_bench.sh). */
const HOLD_CONNS = 10_000;
/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ: 100 on Linux). */
const TICKS_PER_SECOND = 100;
/** Busy % of both CPUs (others' load) tolerated before a round starts, and how long to wait. */
const QUIET_MAX_PCT = 25;
const QUIET_TRIES = 20;

interface ServerSpec {
  readonly label: string;
  readonly command: (port: number, framing?: string) => string[];
  /** Whether it can frame lines (for the partial-frame memory figure). */
  readonly framing: boolean;
}

const bun = join(ROOT, 'node_modules', '.bin', 'bun');
const aionet =
  (transport: string) =>
  (port: number, framing = 'none'): string[] =>
    // The transport's own figures: nothing logged per connection (docs/operations.md).
    aionetServe(port, transport, framing, ['--log-level', 'error']);

const SERVERS: ServerSpec[] = [
  {
    label: 'node_net',
    command: (port: number) => [
      process.execPath,
      join(SHARED_BENCH, 'anchors', 'node_net.mjs'),
      String(port),
    ],
    framing: false,
  },
  { label: 'native', command: aionet('native'), framing: true },
  { label: 'aionet_net', command: aionet('net'), framing: true },
  ...(existsSync(bun)
    ? [
        {
          label: 'bun',
          command: (port: number) => [
            bun,
            join(ROOT, 'bench', 'native-bun-listen.ts'),
            String(port),
          ],
          framing: false,
        },
      ]
    : []),
].filter(
  (spec) => process.env.ONLY === undefined || process.env.ONLY.split(' ').includes(spec.label),
);

function loadgenPath(): string {
  if (process.env.LOADGEN !== undefined) return process.env.LOADGEN;
  const built = '/tmp/aionet-bench/loadgen';
  if (!existsSync(built)) {
    cpSync(SHARED_BENCH, '/tmp/aionet-bench', { recursive: true });
    execFileSync('chmod', ['-R', 'u+w', '/tmp/aionet-bench']);
    execFileSync('bash', ['/tmp/aionet-bench/build.sh'], { stdio: 'inherit' });
  }
  return built;
}
const LOADGEN = loadgenPath();

/** A server process pinned to CPU 0. */
class Server {
  readonly child: ChildProcess;
  readonly port: number;

  private constructor(child: ChildProcess, port: number) {
    this.child = child;
    this.port = port;
  }

  static async start(spec: ServerSpec, port: number, framing?: string): Promise<Server> {
    const child = spawn('taskset', ['-c', '0', ...spec.command(port, framing)], {
      stdio: 'ignore',
    });
    const server = new Server(child, port);
    const deadline = Date.now() + 10_000;
    while (!(await accepts(port))) {
      if (Date.now() > deadline || child.exitCode !== null) {
        throw new Error(`${spec.label} did not listen on ${port}`);
      }
      await sleep(50);
    }
    // The pre-warm connection of run_server_bench.sh.
    loadgen(['pingpong', '-c', '1', '-w', '0', '-d', '1']);
    return server;
  }

  /** taskset execs the server, so the child's pid is the server's. */
  get pid(): number {
    return this.child.pid!;
  }

  utime(): number {
    const fields = readFileSync(`/proc/${this.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return Number(fields[11]) / TICKS_PER_SECOND;
  }

  rssBytes(): number {
    const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
    return Number(status.match(/^VmRSS:\s+(\d+) kB/m)![1]) * 1024;
  }

  async stop(): Promise<void> {
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGKILL');
    await exited;
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs loadgen on CPU 1; returns its RESULT fields. */
function loadgen(args: string[], port = currentPort): Record<string, string> {
  const out = execFileSync('taskset', ['-c', '1', LOADGEN, ...args, '--port', String(port)], {
    encoding: 'utf8',
    maxBuffer: 1 << 24,
  });
  return parseResult(out);
}
let currentPort = PORT;

function parseResult(out: string): Record<string, string> {
  const line = out.split('\n').find((l) => l.startsWith('RESULT ')) ?? '';
  return Object.fromEntries(
    line
      .split(' ')
      .slice(1)
      .map((pair) => pair.split('=') as [string, string]),
  );
}

/** Holds connections with loadgen in the background; samples RSS at the given phase. */
async function holdRss(server: Server, args: string[], phase: string): Promise<number> {
  const child = spawn(
    'taskset',
    ['-c', '1', LOADGEN, 'hold', ...args, '--port', String(server.port)],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );
  let out = '';
  let sampled: number | undefined;
  child.stdout!.setEncoding('utf8').on('data', (text: string) => {
    out += text;
  });
  while (sampled === undefined) {
    if (out.includes(`PHASE phase=${phase}`)) {
      await sleep(1000);
      sampled = server.rssBytes();
    } else if (child.exitCode !== null) {
      throw new Error(`loadgen hold ended before ${phase}: ${out}`);
    }
    await sleep(50);
  }
  await new Promise((resolve) => child.once('exit', resolve));
  return sampled;
}

interface Round {
  msgs100: number;
  cpu100: number;
  msgs1000: number;
  cpu1000: number;
  churn: number;
  idle: number;
  partial: number | undefined;
}

async function pingpong(server: Server, conns: number): Promise<{ msgs: number; cpu: number }> {
  loadgen(['pingpong', '-c', String(conns), '-w', '0', '-d', '2']);
  const before = server.utime();
  const result = loadgen(['pingpong', '-c', String(conns), '-w', '0', '-d', '5']);
  const user = server.utime() - before;
  const msgs = Number(result.msgs_per_s);
  if (result.errors !== '0' || result.bad_replies !== '0') {
    throw new Error(`pingpong -c ${conns}: errors=${result.errors} bad=${result.bad_replies}`);
  }
  return { msgs, cpu: (user / (msgs * 5)) * 1e6 };
}

/** Busy % of the machine over one second, from /proc/stat. */
async function busyPercent(): Promise<number> {
  const sample = () => {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1);
    const values = fields.map(Number);
    const idle = values[3]! + values[4]!;
    return { idle, total: values.reduce((a, b) => a + b, 0) };
  };
  const a = sample();
  await sleep(1000);
  const b = sample();
  return 100 * (1 - (b.idle - a.idle) / Math.max(1, b.total - a.total));
}

/** Waits (bounded) until other processes leave the machine quiet; returns the busy % seen. */
async function waitQuiet(): Promise<number> {
  let busy = 100;
  for (let i = 0; i < QUIET_TRIES; i++) {
    busy = await busyPercent();
    if (busy <= QUIET_MAX_PCT) break;
  }
  return busy;
}

async function round(spec: ServerSpec): Promise<Round> {
  const busy = await waitQuiet();
  if (busy > QUIET_MAX_PCT)
    console.log(`  (machine ${busy.toFixed(0)}% busy before ${spec.label})`);
  currentPort = PORT + Math.floor(Math.random() * 90);
  let server = await Server.start(spec, currentPort);
  const c100 = await pingpong(server, 100);
  const c1000 = await pingpong(server, 1000);
  const churn = Number(loadgen(['churn', '-c', '64', '-w', '1', '-d', '5']).conns_per_s);
  await server.stop();

  server = await Server.start(spec, currentPort);
  const base = server.rssBytes();
  const held = await holdRss(
    server,
    ['-c', String(HOLD_CONNS), '--send', '0', '--settle', '2', '--hold', '1'],
    'connected',
  );
  await server.stop();
  const idle = (held - base) / HOLD_CONNS;

  let partial: number | undefined;
  if (spec.framing) {
    server = await Server.start(spec, currentPort, 'line');
    const base2 = server.rssBytes();
    const withFrames = await holdRss(
      server,
      ['-c', String(HOLD_CONNS), ...PARTIAL_HOLD_ARGS],
      'verified',
    );
    await server.stop();
    partial = (withFrames - base2) / HOLD_CONNS;
  }
  return {
    msgs100: c100.msgs,
    cpu100: c100.cpu,
    msgs1000: c1000.msgs,
    cpu1000: c1000.cpu,
    churn,
    idle,
    partial,
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const results = new Map<string, Round[]>(SERVERS.map((spec) => [spec.label, []]));
for (let r = 0; r < REPEATS; r++) {
  for (const spec of SERVERS) {
    const result = await round(spec);
    results.get(spec.label)!.push(result);
    console.log(
      `round ${r + 1}/${REPEATS} ${spec.label}: ${Math.round(result.msgs100)} / ${Math.round(result.msgs1000)} msg/s, ` +
        `${result.cpu100.toFixed(2)} / ${result.cpu1000.toFixed(2)} us user per msg, churn ${Math.round(result.churn)}/s, ` +
        `idle ${Math.round(result.idle)} B/conn${result.partial === undefined ? '' : `, partial ${Math.round(result.partial)} B/conn`}`,
    );
  }
}

const med = (label: string, key: keyof Round): number | undefined => {
  const values = results
    .get(label)
    ?.map((round) => round[key])
    .filter((v): v is number => v !== undefined);
  return values === undefined || values.length === 0 ? undefined : median(values);
};
const fmt = (value: number | undefined, digits = 0) =>
  value === undefined ? '–' : value.toLocaleString('en', { maximumFractionDigits: digits });

console.log(`\nMedians of ${REPEATS} rounds (server on CPU 0, loadgen on CPU 1):\n`);
console.log(
  '| server | C=100 msg/s | µs user/msg | C=1k msg/s | µs user/msg | churn conn/s | B/idle conn | B/conn, partial frame |',
);
console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
for (const { label } of SERVERS) {
  console.log(
    `| ${label} | ${fmt(med(label, 'msgs100'))} | ${fmt(med(label, 'cpu100'), 2)} | ${fmt(med(label, 'msgs1000'))} | ${fmt(med(label, 'cpu1000'), 2)} | ${fmt(med(label, 'churn'))} | ${fmt(med(label, 'idle'))} | ${fmt(med(label, 'partial'))} |`,
  );
}
const ratio = (label: string, against: string, key: keyof Round) => {
  const a = med(label, key);
  const b = med(against, key);
  return a === undefined || b === undefined ? '–' : `${(a / b).toFixed(2)}x`;
};
if (results.has('native')) {
  console.log(
    '\nnative vs node_net: C=100 %s, C=1k %s, churn %s',
    ratio('native', 'node_net', 'msgs100'),
    ratio('native', 'node_net', 'msgs1000'),
    ratio('native', 'node_net', 'churn'),
  );
  console.log(
    'native vs bun:      C=100 %s, C=1k %s, churn %s',
    ratio('native', 'bun', 'msgs100'),
    ratio('native', 'bun', 'msgs1000'),
    ratio('native', 'bun', 'churn'),
  );
}
