/**
 * The measurements of the benchmark suite, one server instance at a time: pingpong at each
 * connection count (with the server's CPU time per message from /proc/<pid>/stat), churn, idle
 * memory per connection while `hold` keeps HOLD_CONNS connections open, and the generator check
 * (`aionet bench` against the C loadgen, both on the load generator CPU, same server).
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { cpuTimes, type Quiet, sleep, socketFds, statusKb, waitQuiet } from './proc.js';
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
  idleBytes?: number;
  /** Bytes per connection with every held connection holding a partial line. */
  partialBytes?: number;
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

function checkErrors(
  fields: Record<string, string>,
  what: string,
  r: RoundResult,
  conns?: number,
): void {
  for (const key of ['errors', 'bad_replies', 'connect_failures']) {
    const v = num(fields, key);
    if (v !== undefined && v !== 0) r.warnings.push(`${what}: ${key}=${v}`);
  }
  if (conns !== undefined && num(fields, 'connected') !== conns) {
    r.warnings.push(`${what}: ${fields.connected ?? 0} of ${conns} connected`);
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
      checkErrors(fields, `${spec.label} C=${c}`, r, c);
      const msgs = num(fields, 'msgs_per_s');
      const count = num(fields, 'msgs');
      const user = after.user - before.user;
      const total = user + after.system - before.system;
      // loadgen's server_cpu_pct covers exactly the measured window; /proc (which also covers
      // connecting and the warm-up) gives the user share of it, or the whole when it is missing.
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
    checkErrors(fields, `${spec.label} churn`, r);
    const churn = num(fields, 'conns_per_s');
    if (churn !== undefined) r.churn = churn;
    log(`  ${spec.label} churn: ${fields.conns_per_s ?? '?'} conn/s`);
  } finally {
    await server.stop();
  }
}

/** Bytes per idle connection: ΔRSS / new server socket fds with HOLD_CONNS held (fresh instance). */
async function hold(
  spec: ServerSpec,
  port: number,
  loadgen: string,
  k: Knobs,
  r: RoundResult,
): Promise<void> {
  const server = await Server.start(spec, port, loadgen);
  try {
    await quietCheck(k, r, `${spec.label} hold`);
    const rssBefore = statusKb(server.pid, 'VmRSS');
    const fdsBefore = socketFds(server.pid);
    const h = startHold(loadgen, [
      '--port',
      String(port),
      '-c',
      String(k.holdConns),
      '--settle',
      '2',
      '--hold',
      '1',
      '--send',
      '1',
    ]);
    if (await h.waitPhase('connected', 120_000)) {
      await sleep(1000);
      const rss = statusKb(server.pid, 'VmRSS');
      const conns = socketFds(server.pid) - fdsBefore;
      if (conns > 0) r.idleBytes = ((rss - rssBefore) * 1024) / conns;
      if (conns !== k.holdConns)
        r.warnings.push(`${spec.label} hold: server holds ${conns} of ${k.holdConns}`);
      log(
        `  ${spec.label} hold: ${rssBefore} -> ${rss} kB over ${conns} conns = ${Math.round(r.idleBytes ?? 0)} B/conn`,
      );
    } else {
      r.warnings.push(`${spec.label} hold: never reached phase=connected`);
    }
    const fields = await h.done;
    checkErrors(fields, `${spec.label} hold`, r, k.holdConns);
  } finally {
    await server.stop();
  }
}

/** A partial line: no delimiter, so the server keeps it, and answers nothing. */
const PARTIAL_LINE = 'a partial line of forty bytes, no end..';

/**
 * Bytes per connection while every held connection has sent a partial line, which the
 * server's line decoder keeps: hold with one message each that gets no reply.
 */
async function holdPartial(
  spec: ServerSpec,
  argv: (port: number) => string[],
  port: number,
  loadgen: string,
  k: Knobs,
  r: RoundResult,
): Promise<void> {
  const server = await Server.start({ ...spec, argv }, port, loadgen);
  try {
    await quietCheck(k, r, `${spec.label} partial hold`);
    const rssBefore = statusKb(server.pid, 'VmRSS');
    const fdsBefore = socketFds(server.pid);
    const h = startHold(loadgen, [
      '--port',
      String(port),
      '-c',
      String(k.holdConns),
      '--msg',
      PARTIAL_LINE,
      '--settle',
      '1',
      '--reply-timeout',
      '2',
      '--hold',
      '1',
    ]);
    // `verified` comes once the (never answered) replies timed out: every line is held.
    if (await h.waitPhase('verified', 120_000)) {
      const rss = statusKb(server.pid, 'VmRSS');
      const conns = socketFds(server.pid) - fdsBefore;
      if (conns > 0) r.partialBytes = ((rss - rssBefore) * 1024) / conns;
      log(
        `  ${spec.label} partial-line hold: ${rssBefore} -> ${rss} kB over ${conns} conns = ${Math.round(r.partialBytes ?? 0)} B/conn`,
      );
    } else {
      r.warnings.push(`${spec.label} partial hold: never reached phase=verified`);
    }
    await h.done;
  } finally {
    await server.stop();
  }
}

export async function measureServer(
  spec: ServerSpec,
  port: number,
  loadgen: string,
  k: Knobs,
): Promise<RoundResult> {
  const r: RoundResult = { ping: new Map(), warnings: [], quiet: [] };
  try {
    await sweep(spec, port, loadgen, k, r);
    if (spec.full && k.holdConns > 0) await hold(spec, port + 1, loadgen, k, r);
    if (spec.partialArgv !== undefined && k.holdConns > 0) {
      await holdPartial(spec, spec.partialArgv, port + 2, loadgen, k, r);
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
