/**
 * The benchmark suite (`npm run bench`): runs the servers side by side, pinned (server on CPU 0,
 * load generator on CPU 1), in interleaved rounds, and rewrites the suite's section of
 * docs/benchmarks.md (between `<!-- suite:start -->` and `<!-- suite:end -->`) plus
 * docs/benchmarks.svg. Servers: raw Node `net` (../shared/bench anchors/node_net.mjs),
 * `aionet serve --quiet` (net transport; `--framing line`; native transport when the addon is
 * built), the chapter's Python asyncio server when python3 is present, Bun.listen when the `bun`
 * dev dependency is installed. Measures pingpong msgs/s and p99 at each C, server CPU per
 * message, bytes per idle connection (HOLD_CONNS held), churn conn/s, and `aionet bench` against
 * the C loadgen. bench/native.ts remains the native transport's own deeper comparison.
 *
 * After the rounds, an interleaved phase (bench/lib/interleaved.ts) keeps every server up and
 * takes short pingpong slices from each in turn at C=100 and 1,000: the throughput ratios and
 * the pooled user CPU per message of the targets come from it.
 *
 * Env knobs (defaults): CLIST="1 100 1000 10000" DURATION=5 WARMUP=2 REPEATS=3 HOLD_CONNS=10000
 *   CHURN_CONC=64 ONLY=node_net,aionet,... QUIET_MAX=25 QUIET_TRIES=3 PORT=7700 (7700-7799)
 *   SLICES=10 SLICE_SECONDS=2 SLICE_WARMUP=1 (SLICES=0: no interleaved phase)
 *   OUT=docs/benchmarks.md SHARED_BENCH LOADGEN
 * Quick run (~6 min): REPEATS=1 DURATION=2 WARMUP=1 SLICES=2 CLIST="1 100 1000" npm run bench
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, resolve } from 'node:path';
import { composeSection, seriesOf, summarize } from './lib/doc.js';
import { type Interleaved, interleave } from './lib/interleaved.js';
import {
  type GeneratorCheck,
  generatorCheck,
  type Knobs,
  measureServer,
  type RoundResult,
} from './lib/measure.js';
import { chart, replaceSection } from './lib/report.js';
import { loadgenPath, ROOT, serverSpecs, sharedBench } from './lib/servers.js';

const env = (name: string, fallback: string) => process.env[name] ?? fallback;
const numbers = (s: string) =>
  s
    .split(/[\s,]+/)
    .filter((x) => x !== '')
    .map(Number)
    .filter((n) => Number.isFinite(n) && n > 0);

const knobs: Knobs = {
  clist: numbers(env('CLIST', '1 100 1000 10000')),
  duration: Number(env('DURATION', '5')),
  warmup: Number(env('WARMUP', '2')),
  holdConns: Number(env('HOLD_CONNS', '10000')),
  churnConc: Number(env('CHURN_CONC', '64')),
  quietMax: Number(env('QUIET_MAX', '25')),
  quietTries: Number(env('QUIET_TRIES', '3')),
};
const REPEATS = Math.max(1, Number(env('REPEATS', '3')));
const SLICES = Math.max(0, Number(env('SLICES', '10')));
const SLICE_SECONDS = Math.max(1, Number(env('SLICE_SECONDS', '2')));
const SLICE_WARMUP = Math.max(0, Number(env('SLICE_WARMUP', '1')));
const BASE_PORT = Number(env('PORT', '7700'));
const OUT = resolve(ROOT, env('OUT', 'docs/benchmarks.md'));
const SVG = OUT.replace(/\.md$/, '.svg');
const only = process.env.ONLY?.split(/[\s,]+/).filter((x) => x !== '');

// Ports 7700-7799 only: each measurement uses BASE_PORT + 0..97.
if (BASE_PORT < 7700 || BASE_PORT + 97 > 7799)
  throw new Error('PORT must keep the suite within 7700-7799');

const shared = sharedBench();
const loadgen = loadgenPath(shared);
const specs = serverSpecs(shared).filter((s) => only === undefined || only.includes(s.label));
const started = new Date();
const command = [
  'CLIST',
  'DURATION',
  'WARMUP',
  'REPEATS',
  'HOLD_CONNS',
  'ONLY',
  'QUIET_TRIES',
  'SLICES',
  'SLICE_SECONDS',
  'SLICE_WARMUP',
]
  .filter((k) => process.env[k] !== undefined)
  .map((k) => `${k}=${JSON.stringify(process.env[k])}`)
  .concat('npm run bench')
  .join(' ');

console.log(
  `bench suite: ${specs.map((s) => s.label).join(', ')}; ${REPEATS} round(s); C=${knobs.clist.join(',')}`,
);
console.log(
  `loadgen ${loadgen}; load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
);

const results = new Map<string, RoundResult[]>(specs.map((s) => [s.label, []]));
const gen: GeneratorCheck[] = [];
let slot = 0;
const nextPort = () => BASE_PORT + ((slot++ * 2) % 96);
const netSpec = specs.find((s) => s.label === 'node_net');

for (let round = 0; round < REPEATS; round++) {
  // Rotate the order each round so no server always runs first (or last).
  const order = specs
    .map((_, i) => specs[(i + round) % specs.length])
    .filter((s) => s !== undefined);
  for (const spec of order) {
    console.log(`round ${round + 1}/${REPEATS}: ${spec.label}`);
    // The framing variant answers issue 3 (C=100); it is measured at 100 and 1,000 only.
    const k = spec.full
      ? knobs
      : { ...knobs, clist: knobs.clist.filter((c) => c === 100 || c === 1000) };
    results.get(spec.label)?.push(await measureServer(spec, nextPort(), loadgen, k));
  }
  if (netSpec !== undefined) {
    console.log(`round ${round + 1}/${REPEATS}: generator check`);
    gen.push(await generatorCheck(netSpec, nextPort(), loadgen, knobs));
  }
}

let slices: Interleaved | undefined;
const sliceClist = knobs.clist.filter((c) => c === 100 || c === 1000);
if (SLICES > 0 && sliceClist.length > 0) {
  console.log(`interleaved phase: ${SLICES} slices at C=${sliceClist.join(',')}`);
  slices = await interleave(specs, nextPort, loadgen, {
    clist: sliceClist,
    slices: SLICES,
    seconds: SLICE_SECONDS,
    warmup: SLICE_WARMUP,
  });
}

const summaries = new Map(
  specs.map((s) => [s.label, summarize(s.label, results.get(s.label) ?? [], knobs.clist)] as const),
);
const all = [...results.values()].flat();
const warnings = [
  ...all.flatMap((r) => r.warnings),
  ...gen.flatMap((g) => g.warnings),
  ...(slices?.warnings ?? []),
];
const busy = all.flatMap((r) => r.quiet.map((q) => q.busy));
const loads = all.flatMap((r) => r.quiet.map((q) => q.load1));
const minutes = (Date.now() - started.getTime()) / 60_000;
const quick = REPEATS < 3 || knobs.duration < 5;

const section = composeSection({
  summaries,
  gen,
  knobs,
  repeats: REPEATS,
  command,
  quick,
  started,
  minutes,
  warnings,
  busy,
  loads,
  ...(slices === undefined ? {} : { slices }),
});
let existing: string | undefined;
try {
  existing = readFileSync(OUT, 'utf8');
} catch {
  existing = undefined;
}
mkdirSync(dirname(OUT), { recursive: true });
writeFileSync(OUT, replaceSection(existing, section));
const series = seriesOf(summaries, knobs.clist);
writeFileSync(
  SVG,
  chart(
    series.msgs,
    series.p99,
    `${quick ? 'QUICK RUN, ' : ''}medians of ${REPEATS} round(s), ${started.toISOString()}; server CPU 0, loadgen CPU 1`,
  ),
);
console.log(`\n${section}`);
console.log(`wrote ${OUT} and ${SVG} in ${minutes.toFixed(1)} min`);
if (Math.max(0, ...busy) > knobs.quietMax) {
  console.warn(
    `\n!!! WARNING: the machine was busy during the run (up to ${Math.max(...busy).toFixed(0)} % CPU by others); figures are indicative only !!!`,
  );
}
