/**
 * The measurements of the benchmark suite, one server instance at a time: pingpong at each
 * connection count (with the server's CPU time per message from /proc/<pid>/stat), churn, idle
 * memory per connection while `hold` keeps HOLD_CONNS connections open, and the generator check
 * (`aionet bench` against the C loadgen, both on the load generator CPU, same server).
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import {
  cpuTimes,
  type Quiet,
  sleep,
  socketFds,
  statusKb,
  waitQuiet,
  windowSampler,
} from './proc.js';
import { LOADGEN_CPU, ROOT, runLoadgen, Server, type ServerSpec, startHold } from './servers.js';
import { num, parseBenchJson, parseResult } from './stats.js';

export interface Knobs {
  readonly clist: readonly number[];
  readonly duration: number;
  readonly warmup: number;
  readonly holdConns: number;
  readonly churnConc: number;
  readonly quietMax: number;
  readonly quietTries: number;
}

export interface Ping {
  readonly msgs?: number;
  readonly p99?: number;
  /** Server CPU (user + system) µs per message over the measured run. */
  readonly cpuUs?: number;
  /** Server user CPU µs per message. */
  readonly userUs?: number;
}

export interface RoundResult {
  readonly ping: Map<number, Ping>;
  churn?: number;
  idleBytes?: number | undefined;
  /** Bytes per connection with every held connection holding a partial line. */
  partialBytes?: number | undefined;
  warnings: string[];
  /** Busy % of the machine before each measurement and the 1-min load average. */
  quiet: Quiet[];
}

const log = (msg: string) => console.log(msg);

async function quietCheck(k: Knobs, r: RoundResult, what: string): Promise<void> {
  const q = await waitQuiet(k.quietMax, k.quietTries);
  r.quiet.push(q);
  if (!q.quiet)
    r.warnings.push(
      `${what}: machine busy (${q.busy.toFixed(0)}% CPU, load ${q.load1.toFixed(1)})`,
    );
}

/** Adds a warning for each loadgen error count that is not 0, and for connections missing. */
export function checkErrors(
  fields: Record<string, string>,
  what: string,
  warnings: string[],
  conns?: number,
): void {
  for (const key of ['errors', 'bad_replies', 'connect_failures']) {
    const v = num(fields, key);
    if (v !== undefined && v !== 0) warnings.push(`${what}: ${key}=${v}`);
  }
  if (conns !== undefined && num(fields, 'connected') !== conns) {
    warnings.push(`${what}: ${fields.connected ?? 0} of ${conns} connected`);
  }
}

/** Pingpong at every C, then churn, on one fresh instance. */
async function sweep(
  spec: ServerSpec,
  port: number,
  loadgen: string,
  k: Knobs,
  r: RoundResult,
): Promise<void> {
  const server = await Server.start(spec, port, loadgen);
  try {
    for (const c of k.clist) {
      const base = ['pingpong', '--port', String(port), '-c', String(c), ...spec.replyArgs];
      await quietCheck(k, r, `${spec.label} C=${c}`);
      const before = cpuTimes(server.pid);
      const window = windowSampler(server.pid, k.warmup, k.duration);
      const fields = parseResult(
        await runLoadgen(loadgen, [
          ...base,
          '-w',
          String(k.warmup),
          '-d',
          String(k.duration),
          '--server-pid',
          String(server.pid),
        ]),
      );
      const after = server.alive ? cpuTimes(server.pid) : before;
      checkErrors(fields, `${spec.label} C=${c}`, r.warnings, c);
      const msgs = num(fields, 'msgs_per_s');
      const count = num(fields, 'msgs');
      // loadgen's server_cpu_pct covers exactly the measured window; /proc gives the user share
      // of it: sampled inside the window where possible, else over the whole run (which also
      // covers connecting, the warm-up and closing), or the whole when it is missing.
      const share = window.read(num(fields, 'connect_s')) ?? {
        user: after.user - before.user,
        system: after.system - before.system,
      };
      const user = share.user;
      const total = share.user + share.system;
      const pct = num(fields, 'server_cpu_pct');
      const scale = (k.warmup + k.duration) / k.duration;
      const cpuUs =
        pct !== undefined && msgs
          ? (pct / 100) * (1e6 / msgs)
          : count
            ? (total * 1e6) / (count * scale)
            : undefined;
      const userUs = cpuUs !== undefined && total > 0 ? (cpuUs * user) / total : undefined;
      const lgBusy = num(fields, 'cpu1_busy_pct');
      if (lgBusy !== undefined && lgBusy >= 95) {
        r.warnings.push(
          `${spec.label} C=${c}: load generator CPU ${lgBusy}% busy (harness ceiling, or other tenants on that CPU)`,
        );
      }
      r.ping.set(c, {
        ...(msgs === undefined ? {} : { msgs }),
        ...(num(fields, 'p99_us') === undefined ? {} : { p99: num(fields, 'p99_us') as number }),
        ...(cpuUs === undefined ? {} : { cpuUs }),
        ...(userUs === undefined ? {} : { userUs }),
      });
      log(
        `  ${spec.label} C=${c}: ${fields.msgs_per_s ?? '?'} msg/s, p99 ${fields.p99_us ?? '?'} µs`,
      );
      if (!server.alive) {
        r.warnings.push(`${spec.label}: server died at C=${c}`);
        return;
      }
    }
    if (!spec.full) return;
    await quietCheck(k, r, `${spec.label} churn`);
    const fields = parseResult(
      await runLoadgen(loadgen, [
        'churn',
        '--port',
        String(port),
        '-c',
        String(k.churnConc),
        '-w',
        '1',
        '-d',
        String(k.duration),
        '--connect-timeout',
        '5',
        '--server-pid',
        String(server.pid),
      ]),
    );
    checkErrors(fields, `${spec.label} churn`, r.warnings);
    const churn = num(fields, 'conns_per_s');
    if (churn !== undefined) r.churn = churn;
    log(`  ${spec.label} churn: ${fields.conns_per_s ?? '?'} conn/s`);
  } finally {
    await server.stop();
  }
}

/** How one hold measurement runs (see `heldBytes`). */
interface HoldPlan {
  /** Its name in the log and warnings. */
  readonly what: string;
  /** loadgen `hold` flags after the port and the connection count. */
  readonly args: readonly string[];
  /** The loadgen phase after which RSS is read, and how long after it. */
  readonly phase: string;
  readonly afterMs: number;
  /** Warn when the server holds fewer connections than asked, and check loadgen's errors. */
  readonly strict: boolean;
}

/**
 * ΔRSS of a fresh server instance per new server socket with `holdConns` connections held as
 * `plan` says; undefined when the phase never came (a warning says so).
 */
async function heldBytes(
  spec: ServerSpec,
  port: number,
  loadgen: string,
  k: Knobs,
  r: RoundResult,
  plan: HoldPlan,
): Promise<number | undefined> {
  const server = await Server.start(spec, port, loadgen);
  try {
    await quietCheck(k, r, `${spec.label} ${plan.what}`);
    const rssBefore = statusKb(server.pid, 'VmRSS');
    const fdsBefore = socketFds(server.pid);
    const h = startHold(loadgen, ['--port', String(port), '-c', String(k.holdConns), ...plan.args]);
    let bytes: number | undefined;
    if (await h.waitPhase(plan.phase, 120_000)) {
      if (plan.afterMs > 0) await sleep(plan.afterMs);
      const rss = statusKb(server.pid, 'VmRSS');
      const conns = socketFds(server.pid) - fdsBefore;
      if (conns > 0) bytes = ((rss - rssBefore) * 1024) / conns;
      if (plan.strict && conns !== k.holdConns)
        r.warnings.push(`${spec.label} ${plan.what}: server holds ${conns} of ${k.holdConns}`);
      log(
        `  ${spec.label} ${plan.what}: ${rssBefore} -> ${rss} kB over ${conns} conns = ${Math.round(bytes ?? 0)} B/conn`,
      );
    } else {
      r.warnings.push(`${spec.label} ${plan.what}: never reached phase=${plan.phase}`);
    }
    const fields = await h.done;
    if (plan.strict) checkErrors(fields, `${spec.label} ${plan.what}`, r.warnings, k.holdConns);
    return bytes;
  } finally {
    await server.stop();
  }
}

/** Bytes per idle connection: HOLD_CONNS held, each having sent one message and got its reply. */
const IDLE_HOLD: HoldPlan = {
  what: 'hold',
  args: ['--settle', '2', '--hold', '1', '--send', '1'],
  phase: 'connected',
  afterMs: 1000,
  strict: true,
};

/**
 * Bytes per connection while every held connection has sent a partial line (no delimiter: the
 * server's line decoder keeps it and answers nothing). `verified` comes once the replies that
 * never come timed out: every line is held by then.
 */
export const PARTIAL_HOLD_ARGS: readonly string[] = [
  '--msg',
  'a partial line of forty bytes, no end..',
  '--settle',
  '1',
  '--reply-timeout',
  '2',
  '--hold',
  '1',
];

const PARTIAL_HOLD: HoldPlan = {
  what: 'partial-line hold',
  args: PARTIAL_HOLD_ARGS,
  phase: 'verified',
  afterMs: 0,
  strict: false,
};

export async function measureServer(
  spec: ServerSpec,
  port: number,
  loadgen: string,
  k: Knobs,
): Promise<RoundResult> {
  const r: RoundResult = { ping: new Map(), warnings: [], quiet: [] };
  try {
    await sweep(spec, port, loadgen, k, r);
    if (spec.full && k.holdConns > 0) {
      r.idleBytes = await heldBytes(spec, port + 1, loadgen, k, r, IDLE_HOLD);
    }
    if (spec.partialArgv !== undefined && k.holdConns > 0) {
      const lines = { ...spec, argv: spec.partialArgv };
      r.partialBytes = await heldBytes(lines, port + 2, loadgen, k, r, PARTIAL_HOLD);
    }
  } catch (error) {
    r.warnings.push(`${spec.label}: ${(error as Error).message}`);
  }
  for (const w of r.warnings) console.warn(`  WARNING: ${w}`);
  return r;
}

export interface GeneratorCheck {
  c?: number;
  aionet?: number;
  aionetP99?: number;
  warnings: string[];
}

function aionetBench(args: readonly string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve) => {
    execFile(
      'taskset',
      ['-c', LOADGEN_CPU, process.execPath, join(ROOT, 'bin', 'aionet.js'), 'bench', ...args],
      { encoding: 'utf8', maxBuffer: 1 << 24, timeout: timeoutMs, killSignal: 'SIGKILL' },
      (_e, stdout, stderr) => resolve(`${stdout}\n${stderr}`),
    );
  });
}

/** `aionet bench` and the C loadgen at 100 connections against one node_net instance. */
export async function generatorCheck(
  spec: ServerSpec,
  port: number,
  loadgen: string,
  k: Knobs,
): Promise<GeneratorCheck> {
  const g: GeneratorCheck = { warnings: [] };
  const server = await Server.start(spec, port, loadgen);
  try {
    const w = String(Math.max(1, k.warmup));
    const d = String(k.duration);
    const cFields = parseResult(
      await runLoadgen(loadgen, [
        'pingpong',
        '--port',
        String(port),
        '-c',
        '100',
        '-w',
        w,
        '-d',
        d,
      ]),
    );
    const c = num(cFields, 'msgs_per_s');
    if (c !== undefined) g.c = c;
    const out = await aionetBench(
      ['--port', String(port), '--connections', '100', '--duration', d, '--warmup', w, '--json'],
      (Number(w) + Number(d) + 60) * 1000,
    );
    const a = parseBenchJson(out);
    if (a === undefined) g.warnings.push(`aionet bench: no JSON result: ${out.slice(0, 300)}`);
    else {
      g.aionet = a.msgs;
      g.aionetP99 = a.p99;
      if (a.errors !== 0) g.warnings.push(`aionet bench: errors=${a.errors}`);
    }
    log(`  generator check: loadgen ${c ?? '?'} msg/s, aionet bench ${a?.msgs ?? '?'} msg/s`);
  } catch (error) {
    g.warnings.push(`generator check: ${(error as Error).message}`);
  } finally {
    await server.stop();
  }
  return g;
}
