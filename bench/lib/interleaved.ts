/**
 * The suite's interleaved phase: every server is started once and kept up, then short slices of
 * pingpong are taken from each in turn, the order rotating and reversing slice by slice. Two
 * servers' slices are seconds apart instead of the minutes between them in a round, so a ratio
 * paired within a slice cancels most of the drift of a shared VM (whose speed swings by 20–40 %
 * over seconds to minutes). CPU per message is pooled over all slices: the user share comes from
 * /proc/<pid>/stat, which is sampled at the kernel's tick, so a longer total window is what makes
 * it steady.
 */
import { checkErrors } from './measure.js';
import { cpuTimes, windowSampler } from './proc.js';
import { runLoadgen, Server, type ServerSpec } from './servers.js';
import { maximum, median, num, parseResult, ratio } from './stats.js';

export interface SliceKnobs {
  readonly clist: readonly number[];
  readonly slices: number;
  /** Measured seconds per slice. */
  readonly seconds: number;
  /** loadgen warm-up seconds per slice (connections made, not counted). */
  readonly warmup: number;
}

export interface SliceFigures {
  /** msgs/s of each slice, in slice order; `undefined` for a slice that failed. */
  readonly msgs: (number | undefined)[];
  /** Server CPU (user + system) µs per message over all slices' measured windows. */
  cpuUs?: number;
  /** The user part of it (user share of /proc's ticks inside the slices' measured windows). */
  userUs?: number;
  /** The same with the user share over whole slices: accepting and closing 1,000 connections included. */
  wholeUserUs?: number;
}

export interface Interleaved {
  readonly knobs: SliceKnobs;
  /** By server label, then C. */
  readonly figures: Map<string, Map<number, SliceFigures>>;
  readonly warnings: string[];
}

/** Per-slice accumulators of one server at one C. */
interface Pool {
  readonly figures: SliceFigures;
  cpuSeconds: number;
  messages: number;
  userTicks: number;
  allTicks: number;
  /** The same over whole slices, connecting and closing included (for comparison). */
  wholeUser: number;
  wholeAll: number;
}

/**
 * The order of slice `slice`: rotated by one server each slice and reversed every other, so no
 * server keeps a neighbour or a position.
 */
export function sliceOrder<T>(items: readonly T[], slice: number): T[] {
  const n = items.length;
  const rotated = items.map((_, i) => items[(i + slice) % n] as T);
  return slice % 2 === 1 ? rotated.reverse() : rotated;
}

/** Runs the phase; `nextPort` gives each server its port. Servers are stopped at the end. */
export async function interleave(
  specs: readonly ServerSpec[],
  nextPort: () => number,
  loadgen: string,
  knobs: SliceKnobs,
): Promise<Interleaved> {
  const warnings: string[] = [];
  const figures = new Map<string, Map<number, SliceFigures>>();
  const pools = new Map<string, Map<number, Pool>>();
  const servers: { spec: ServerSpec; server: Server }[] = [];
  try {
    for (const spec of specs) {
      try {
        servers.push({ spec, server: await Server.start(spec, nextPort(), loadgen) });
      } catch (error) {
        warnings.push(`interleaved: ${spec.label} did not start (${String(error)})`);
      }
    }
    for (const { spec } of servers) {
      figures.set(spec.label, new Map());
      pools.set(spec.label, new Map());
    }
    for (let slice = 0; slice < knobs.slices; slice++) {
      for (const c of knobs.clist) {
        for (const { spec, server } of sliceOrder(servers, slice)) {
          if (!server.alive) continue;
          const pool = poolOf(pools, figures, spec.label, c);
          const before = cpuTimes(server.pid);
          const window = windowSampler(server.pid, knobs.warmup, knobs.seconds);
          const fields = parseResult(
            await runLoadgen(loadgen, [
              'pingpong',
              '--port',
              String(server.port),
              '-c',
              String(c),
              ...spec.replyArgs,
              '-w',
              String(knobs.warmup),
              '-d',
              String(knobs.seconds),
              '--server-pid',
              String(server.pid),
            ]),
          );
          const after = server.alive ? cpuTimes(server.pid) : before;
          const msgs = num(fields, 'msgs_per_s');
          checkErrors(fields, `interleaved ${spec.label} C=${c} slice ${slice + 1}`, warnings, c);
          pool.figures.msgs.push(msgs);
          const pct = num(fields, 'server_cpu_pct');
          if (msgs !== undefined && pct !== undefined) {
            pool.cpuSeconds += (pct / 100) * knobs.seconds;
            pool.messages += msgs * knobs.seconds;
          }
          // The user share from /proc inside the measured window (see windowSampler), else over
          // the whole slice, connecting and closing included.
          const whole = { user: after.user - before.user, system: after.system - before.system };
          const share = window.read(num(fields, 'connect_s')) ?? whole;
          pool.userTicks += share.user;
          pool.allTicks += share.user + share.system;
          pool.wholeUser += whole.user;
          pool.wholeAll += whole.user + whole.system;
          if (!server.alive) warnings.push(`interleaved: ${spec.label} died at C=${c}`);
        }
        console.log(
          `  slice ${slice + 1}/${knobs.slices} C=${c}: ${servers
            .map(
              ({ spec }) => `${spec.label} ${fmtK(figures.get(spec.label)?.get(c)?.msgs.at(-1))}`,
            )
            .join(', ')}`,
        );
      }
    }
  } finally {
    for (const { server } of servers) await server.stop();
  }
  for (const byC of pools.values()) {
    for (const pool of byC.values()) {
      if (pool.messages > 0) {
        pool.figures.cpuUs = (pool.cpuSeconds * 1e6) / pool.messages;
        if (pool.allTicks > 0)
          pool.figures.userUs = (pool.figures.cpuUs * pool.userTicks) / pool.allTicks;
        if (pool.wholeAll > 0)
          pool.figures.wholeUserUs = (pool.figures.cpuUs * pool.wholeUser) / pool.wholeAll;
      }
    }
  }
  return { knobs, figures, warnings };
}

function poolOf(
  pools: Map<string, Map<number, Pool>>,
  figures: Map<string, Map<number, SliceFigures>>,
  label: string,
  c: number,
): Pool {
  const byC = pools.get(label)!;
  let pool = byC.get(c);
  if (pool === undefined) {
    pool = {
      figures: { msgs: [] },
      cpuSeconds: 0,
      messages: 0,
      userTicks: 0,
      allTicks: 0,
      wholeUser: 0,
      wholeAll: 0,
    };
    byC.set(c, pool);
    figures.get(label)!.set(c, pool.figures);
  }
  return pool;
}

const fmtK = (v: number | undefined) => (v === undefined ? '?' : `${Math.round(v / 1000)}k`);

/**
 * Server `a`'s msgs/s over server `b`'s at `c`: each slice's ratio (the two measured seconds
 * apart), their median, and the ratio of the two servers' best slices — interference on a
 * shared machine only ever slows a server down, so its best slice is the closest to its own
 * speed (the reasoning behind timeit's minimum).
 */
export function sliceRatio(
  run: Interleaved | undefined,
  a: string,
  b: string,
  c: number,
):
  | { value: number | undefined; rounds: number[]; best: number | undefined; basis: 'slices' }
  | undefined {
  const x = run?.figures.get(a)?.get(c)?.msgs;
  const y = run?.figures.get(b)?.get(c)?.msgs;
  if (x === undefined || y === undefined) return undefined;
  const rounds: number[] = [];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const value = ratio(x[i], y[i]);
    if (value !== undefined) rounds.push(value);
  }
  if (rounds.length === 0) return undefined;
  const value = median(rounds);
  const best = ratio(maximum(x), maximum(y));
  return { value, rounds, best, basis: 'slices' };
}
