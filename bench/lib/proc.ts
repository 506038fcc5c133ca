/**
 * /proc sampling for the benchmark suite: a process's CPU times and resident memory, its socket
 * file descriptors, whole-machine CPU busy %, the load average, and a bounded wait for a quiet
 * machine (as ../shared/bench/run_server_bench.sh does before each measurement).
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ: 100 on Linux). */
const TICKS_PER_SECOND = 100;

/** User and system CPU seconds of one process (utime, stime of /proc/<pid>/stat). */
export function cpuTimes(pid: number): { user: number; system: number } {
  const after = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1] ?? '';
  const fields = after.split(' ');
  return {
    user: Number(fields[11] ?? 0) / TICKS_PER_SECOND,
    system: Number(fields[12] ?? 0) / TICKS_PER_SECOND,
  };
}

/** A /proc/<pid>/status field in kB (VmRSS, VmHWM); 0 when unreadable. */
export function statusKb(pid: number, field: string): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
    return match?.[1] === undefined ? 0 : Number(match[1]);
  } catch {
    return 0;
  }
}

/** Number of socket fds the process holds. */
export function socketFds(pid: number): number {
  let count = 0;
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:')) count++;
      } catch {
        // closed meanwhile
      }
    }
  } catch {
    return 0;
  }
  return count;
}

function cpuLine(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const at = (i: number) => v[i] ?? 0;
  // user nice system idle iowait irq softirq steal
  const busy = at(0) + at(1) + at(2) + at(5) + at(6) + at(7);
  return { busy, total: busy + at(3) + at(4) };
}

/** Percent of all CPUs busy over `ms` milliseconds. */
export async function busyPercent(ms = 1000): Promise<number> {
  const a = cpuLine();
  await sleep(ms);
  const b = cpuLine();
  const total = b.total - a.total;
  return total > 0 ? (100 * (b.busy - a.busy)) / total : 0;
}

export interface Quiet {
  /** Busy % of all CPUs in the last sample. */
  readonly busy: number;
  readonly quiet: boolean;
  readonly load1: number;
}

/** Waits until at most `maxBusy` % of the CPUs are busy, `tries` samples at most (~2 s each). */
export async function waitQuiet(maxBusy: number, tries: number): Promise<Quiet> {
  let busy = 100;
  for (let i = 0; i < Math.max(1, tries); i++) {
    busy = await busyPercent(1000);
    if (busy <= maxBusy) return { busy, quiet: true, load1: loadavg()[0] ?? 0 };
    if (i + 1 < tries) await sleep(1000);
  }
  return { busy, quiet: false, load1: loadavg()[0] ?? 0 };
}

/** nproc, CPU model, kernel and Node version. */
export function machine(): { nproc: number; model: string; kernel: string; node: string } {
  let kernel = '';
  try {
    kernel = readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
  } catch {
    kernel = 'unknown';
  }
  const list = cpus();
  return { nproc: list.length, model: list[0]?.model ?? 'unknown', kernel, node: process.version };
}

export const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Margin, after the load generator starts, within which its connect phase must have ended for a
 * window sample to count: the sample opens this long after the warm-up would begin.
 */
export const WINDOW_MARGIN_MS = 300;

/**
 * Samples `pid`'s CPU times inside a load generator's measured window while it runs: from
 * `warmup` seconds plus {@link WINDOW_MARGIN_MS} after the call to 100 ms before the window
 * would end (the generator's window starts after its connect phase and warm-up). What accepting
 * and closing the run's connections costs falls outside, so the user share of a message's CPU
 * is the steady state's (the churn figure measures connection set-up on its own). `read` gives
 * the times between the two samples, or `undefined` when the window was too short or the
 * generator's connect phase (`connectSeconds`, its `connect_s`) outlasted the margin.
 */
export function windowSampler(
  pid: number,
  warmup: number,
  duration: number,
): { read(connectSeconds: number | undefined): { user: number; system: number } | undefined } {
  const from = warmup * 1000 + WINDOW_MARGIN_MS;
  const to = (warmup + duration) * 1000 - 100;
  let first: { user: number; system: number } | undefined;
  let last: { user: number; system: number } | undefined;
  const sample = () => {
    try {
      return cpuTimes(pid);
    } catch {
      return undefined;
    }
  };
  const timers =
    to - from < 500
      ? []
      : [
          setTimeout(() => {
            first = sample();
          }, from),
          setTimeout(() => {
            last = sample();
          }, to),
        ];
  return {
    read(connectSeconds) {
      for (const timer of timers) clearTimeout(timer);
      if (first === undefined || last === undefined) return undefined;
      if (connectSeconds === undefined || connectSeconds * 1000 > WINDOW_MARGIN_MS - 50) {
        return undefined;
      }
      return { user: last.user - first.user, system: last.system - first.system };
    },
  };
}
