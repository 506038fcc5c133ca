/**
 * Composes the benchmark suite's section of docs/benchmarks.md from the per-round results:
 * medians per server, ratios to raw Node `net`, the computed pass/fail lines of the targets,
 * the machine, the command and the load the machine was under.
 */
import { type Interleaved, sliceRatio } from './interleaved.js';
import type { GeneratorCheck, Knobs, RoundResult } from './measure.js';
import { machine } from './proc.js';
import { type Series, table } from './report.js';
import { type Check, fmt, fmtMicros, fmtRatio, maximum, median, passes, ratio } from './stats.js';

export interface Summary {
  readonly label: string;
  readonly msgs: Map<number, number | undefined>;
  readonly p99: Map<number, number | undefined>;
  readonly cpuUs: Map<number, number | undefined>;
  readonly userUs: Map<number, number | undefined>;
  readonly churn: number | undefined;
  readonly idleBytes: number | undefined;
  readonly partialBytes: number | undefined;
  readonly rounds: number;
  /** Each round's result, in round order: for ratios paired within a round. */
  readonly perRound: readonly RoundResult[];
}

export function summarize(
  label: string,
  rounds: readonly RoundResult[],
  clist: readonly number[],
): Summary {
  const per = (key: 'msgs' | 'p99' | 'cpuUs' | 'userUs') =>
    new Map(clist.map((c) => [c, median(rounds.map((r) => r.ping.get(c)?.[key]))] as const));
  return {
    label,
    msgs: per('msgs'),
    p99: per('p99'),
    cpuUs: per('cpuUs'),
    userUs: per('userUs'),
    churn: median(rounds.map((r) => r.churn)),
    idleBytes: median(rounds.map((r) => r.idleBytes)),
    partialBytes: median(rounds.map((r) => r.partialBytes)),
    rounds: rounds.length,
    perRound: rounds,
  };
}

/**
 * The ratio of two servers' figures per round (each round measures every server, one after the
 * other), and the median of those: on a shared machine whose speed drifts over minutes this is
 * steadier than the ratio of the two medians, which may come from different rounds.
 */
function paired(
  a: Summary | undefined,
  b: Summary | undefined,
  pick: (r: RoundResult) => number | undefined,
): { value: number | undefined; rounds: number[] } {
  const rounds: number[] = [];
  const n = Math.min(a?.perRound.length ?? 0, b?.perRound.length ?? 0);
  for (let i = 0; i < n; i++) {
    const value = ratio(pick(a!.perRound[i]!), pick(b!.perRound[i]!));
    if (value !== undefined) rounds.push(value);
  }
  return { value: median(rounds), rounds };
}

export function checks(
  s: Map<string, Summary>,
  gen: readonly GeneratorCheck[],
  slices?: Interleaved,
): Check[] {
  // Throughput ratios come from the interleaved slices when that phase ran for both servers
  // (paired seconds apart), else from the rounds (paired minutes apart).
  const msgs = (a: string, b: string, c: number) =>
    sliceRatio(slices, a, b, c) ?? paired(s.get(a), s.get(b), (r) => r.ping.get(c)?.msgs);
  const out: Check[] = [];
  for (const c of [100, 1000]) {
    out.push({
      name: `issue 2: aionet (--transport net) msgs/s at C=${c} / node_net (>= 0.95)`,
      ...msgs('aionet', 'node_net', c),
      threshold: 0.95,
      op: '>=',
    });
    if (s.has('asyncio')) {
      out.push({
        name: `issue 2: aionet (--transport net) msgs/s at C=${c} / chapter's asyncio (>= 1)`,
        ...msgs('aionet', 'asyncio', c),
        threshold: 1,
        op: '>=',
      });
    }
  }
  // `aionet serve --quiet` as run by default: `--transport auto`, which is the native engine
  // wherever the addon was built (`npm ci` builds it here), else `net`.
  if (s.has('native')) {
    for (const c of [100, 1000]) {
      out.push({
        name: `issue 2: default \`aionet serve --quiet\` (auto = native) msgs/s at C=${c} / node_net (>= 0.95)`,
        ...msgs('native', 'node_net', c),
        threshold: 0.95,
        op: '>=',
      });
      if (s.has('asyncio')) {
        out.push({
          name: `issue 2: default \`aionet serve --quiet\` (auto = native) msgs/s at C=${c} / chapter's asyncio (>= 1)`,
          ...msgs('native', 'asyncio', c),
          threshold: 1,
          op: '>=',
        });
      }
    }
    out.push({
      name: 'issue 2: default `aionet serve --quiet` (auto = native) bytes per idle conn / node_net (<= 1.1)',
      ...paired(s.get('native'), s.get('node_net'), (r) => r.idleBytes),
      threshold: 1.1,
      op: '<=',
    });
  }
  out.push({
    name: 'issue 2: aionet (--transport net) bytes per idle conn / node_net (<= 1.1)',
    ...paired(s.get('aionet'), s.get('node_net'), (r) => r.idleBytes),
    threshold: 1.1,
    op: '<=',
  });
  if (s.has('native_line') && s.has('native')) {
    out.push({
      name: 'issue 3: default `aionet serve --quiet` (auto = native) --framing line msgs/s at C=100 / --framing none (>= 0.9)',
      ...msgs('native_line', 'native', 100),
      threshold: 0.9,
      op: '>=',
    });
  }
  out.push({
    name: 'issue 3: --transport net --framing line msgs/s at C=100 / --framing none (>= 0.9)',
    ...msgs('aionet_line', 'aionet', 100),
    threshold: 0.9,
    op: '>=',
  });
  out.push({
    name: 'issue 4: `aionet bench` msgs/s at C=100 / C loadgen, vs node_net (>= 0.8)',
    value: median(gen.map((g) => ratio(g.aionet, g.c))),
    rounds: gen.flatMap((g) => {
      const value = ratio(g.aionet, g.c);
      return value === undefined ? [] : [value];
    }),
    threshold: 0.8,
    op: '>=',
  });
  const native = s.get('native');
  if (native === undefined) return out;
  for (const c of [100, 1000]) {
    out.push({
      name: `issue 6: native msgs/s at C=${c} / node_net (>= 1.35)`,
      ...msgs('native', 'node_net', c),
      threshold: 1.35,
      op: '>=',
    });
    if (s.has('bun')) {
      out.push({
        name: `issue 6: native msgs/s at C=${c} / Bun.listen (>= 0.95)`,
        ...msgs('native', 'bun', c),
        threshold: 0.95,
        op: '>=',
      });
    }
    const pooled = slices?.figures.get('native')?.get(c)?.userUs;
    out.push({
      name: `issue 6: native user CPU µs per message at C=${c} (<= 0.8)${pooled === undefined ? '' : ', pooled over the interleaved slices'}`,
      value: pooled ?? native.userUs.get(c),
      threshold: 0.8,
      op: '<=',
      unit: 'µs',
      digits: 2,
    });
  }
  out.push({
    name: 'issue 6: native bytes per idle conn (<= 450)',
    value: native.idleBytes,
    threshold: 450,
    op: '<=',
    unit: 'B',
  });
  out.push({
    name: 'issue 6: native bytes per conn holding a partial line (<= 1024)',
    value: native.partialBytes,
    threshold: 1024,
    op: '<=',
    unit: 'B',
  });
  out.push({
    name: 'issue 6: native churn conn/s / node_net (>= 1.35)',
    ...paired(native, s.get('node_net'), (r) => r.churn),
    threshold: 1.35,
    op: '>=',
  });
  return out;
}

export interface DocInput {
  readonly summaries: Map<string, Summary>;
  readonly gen: readonly GeneratorCheck[];
  readonly knobs: Knobs;
  readonly repeats: number;
  readonly command: string;
  readonly quick: boolean;
  readonly started: Date;
  readonly minutes: number;
  readonly warnings: readonly string[];
  readonly busy: readonly number[];
  readonly loads: readonly number[];
  /** The interleaved phase, when it ran. */
  readonly slices?: Interleaved;
}

export function seriesOf(
  s: Map<string, Summary>,
  clist: readonly number[],
): { msgs: Series[]; p99: Series[] } {
  const list = [...s.values()];
  return {
    msgs: list.map((x) => ({
      label: x.label,
      points: clist.map((c) => [c, x.msgs.get(c)] as const),
    })),
    p99: list.map((x) => ({
      label: x.label,
      points: clist.map((c) => [c, divide(x.p99.get(c), 1000)] as const),
    })),
  };
}

const divide = (v: number | undefined, d: number) => (v === undefined ? undefined : v / d);

export function composeSection(d: DocInput): string {
  const m = machine();
  const { clist } = d.knobs;
  const base = d.summaries.get('node_net');
  const lines: string[] = [];
  lines.push('## Suite results (`npm run bench`)', '');
  if (d.quick) {
    lines.push(
      `> **Quick run** (${d.repeats} round(s), ${d.knobs.duration} s per measurement) on a shared, busy machine: ` +
        'indicative only. Re-run the full suite (`npm run bench`) on a quiet machine for the figures of record.',
      '',
    );
  }
  const maxBusy = Math.max(0, ...d.busy);
  const maxLoad = Math.max(0, ...d.loads);
  if (maxBusy > d.knobs.quietMax) {
    lines.push(
      `> **WARNING: the machine was busy** — other processes used up to ${maxBusy.toFixed(0)} % of all CPUs before a measurement ` +
        `(median ${fmt(median([...d.busy]))} %, limit ${d.knobs.quietMax} %); 1-min load average up to ${maxLoad.toFixed(1)} on ${m.nproc} CPUs. ` +
        'Compare ratios from this run only.',
      '',
    );
  }
  lines.push(
    `- Taken ${d.started.toISOString()} in ${d.minutes.toFixed(1)} min; medians of ${d.repeats} interleaved round(s).`,
    `- Machine: ${m.nproc} CPUs (${m.model}), Linux ${m.kernel}, Node ${m.node}.`,
    `- Pinning: each server \`taskset -c 0\`, the load generator (../shared/bench \`loadgen\`, and \`aionet bench\`) \`taskset -c 1\`.`,
    `- Load before measurements: busy ${fmt(Math.min(...d.busy, 100))}–${fmt(maxBusy)} % of all CPUs, load average up to ${maxLoad.toFixed(1)}.`,
    `- Command: \`${d.command}\``,
    '- Knobs (env): `CLIST` (1 100 1000 10000), `DURATION` (5), `WARMUP` (2), `REPEATS` (3), `HOLD_CONNS` (10000), `CHURN_CONC` (64), `ONLY=node_net,aionet,aionet_line,native,native_line,asyncio,bun`, `QUIET_MAX` (25 %), `QUIET_TRIES` (3), `PORT` (7700), `SLICES` (10), `SLICE_SECONDS` (2), `SLICE_WARMUP` (1). Other sections of this file are kept: the suite rewrites only its own.',
    `- Per measurement: pingpong ${d.knobs.warmup} s warm-up + ${d.knobs.duration} s measured on one server instance (C ascending); churn ${d.knobs.churnConc} slots; ` +
      `hold ${fmt(d.knobs.holdConns)} idle connections on a fresh instance (bytes per idle conn = ΔRSS / new server sockets).`,
    '',
    '### Messages per second and p99 latency (pingpong)',
    '',
  );
  const labels = [...d.summaries.keys()];
  const head = ['server', ...clist.flatMap((c) => [`C=${fmt(c)} msg/s`, 'p99', 'vs net'])];
  lines.push(
    table(
      head,
      labels.map((l) => {
        const s = d.summaries.get(l);
        return [
          `\`${l}\``,
          ...clist.flatMap((c) => [
            fmt(s?.msgs.get(c)),
            fmtMicros(s?.p99.get(c)),
            fmtRatio(ratio(s?.msgs.get(c), base?.msgs.get(c))),
          ]),
        ];
      }),
      'l',
    ),
    '',
    '### CPU per message, memory, churn',
    '',
  );
  lines.push(
    table(
      [
        'server',
        ...clist.map((c) => `CPU µs/msg C=${fmt(c)} (user)`),
        'B/idle conn',
        'vs net',
        'B/conn, partial line',
        'churn conn/s',
        'vs net',
      ],
      labels.map((l) => {
        const s = d.summaries.get(l);
        return [
          `\`${l}\``,
          ...clist.map((c) => `${fmt(s?.cpuUs.get(c), 2)} (${fmt(s?.userUs.get(c), 2)})`),
          fmt(s?.idleBytes),
          fmtRatio(ratio(s?.idleBytes, base?.idleBytes)),
          fmt(s?.partialBytes),
          fmt(s?.churn),
          fmtRatio(ratio(s?.churn, base?.churn)),
        ];
      }),
      'l',
    ),
    '',
    'Servers: `node_net` = ../shared/bench/anchors/node_net.mjs; `aionet` = `aionet serve --quiet --transport net`; ' +
      '`aionet_line` = the same with `--framing line` (loadgen expects `Message received\\n`); `native` = `--transport native`; `native_line` = that with `--framing line`; ' +
      "`asyncio` = the chapter's server (anchors/seed_asyncio_port.py, stdout to /dev/null); `bun` = bench/native-bun-listen.ts. " +
      'CPU µs/msg = server user+system CPU over the measured window / messages (user share from /proc/<pid>/stat in brackets); CPU from loadgen `--server-pid` over the measured window. ' +
      'B/conn, partial line = ΔRSS per connection on a fresh `native` server with `--framing line` while each held connection has sent 40 bytes and no newline (the line decoder keeps them).',
    '',
  );
  if (d.slices !== undefined) lines.push(...slicesSection(d.slices), '');
  lines.push('### Generator check (`aionet bench` vs the C loadgen, C=100, against node_net)', '');
  if (d.gen.length === 0) lines.push('Not run (it needs `node_net`).');
  else
    lines.push(
      table(
        ['round', 'C loadgen msg/s', 'aionet bench msg/s', 'ratio'],
        d.gen.map((g, i) => [
          String(i + 1),
          fmt(g.c),
          fmt(g.aionet),
          fmtRatio(ratio(g.aionet, g.c)),
        ]),
        'l',
      ),
    );
  lines.push(
    '',
    '### Targets (computed from this run)',
    '',
    d.slices === undefined
      ? 'A ratio between two servers is the median of its per-round ratios (listed): each round measures every server, minutes apart, so pairing within a round cancels most of the drift of a shared machine. Absolute figures (µs, bytes) are medians over the rounds.'
      : 'A msgs/s ratio between two servers is the median of its per-slice ratios from the interleaved phase (listed; the two servers measured seconds apart), with the ratio of their best slices beside it; other ratios are medians of per-round ratios (rounds are minutes apart). User CPU per message is pooled over the interleaved slices; other absolute figures are medians over the rounds.',
    '',
  );
  if (maxBusy > d.knobs.quietMax || d.repeats < 3) {
    lines.push(
      `> **Not conclusive:** ${maxBusy > d.knobs.quietMax ? 'other processes loaded the machine during the measurements' : 'fewer than 3 rounds'}; ` +
        'the verdicts below are computed as specified but are evidence of nothing until a full run on a quiet machine.',
      '',
    );
  }
  for (const c of checks(d.summaries, d.gen, d.slices)) {
    const ok = passes(c);
    const each =
      c.rounds === undefined || c.rounds.length < 2
        ? ''
        : ` (${c.basis ?? 'rounds'}: ${c.rounds.map((r) => r.toFixed(2)).join(', ')}${c.best === undefined ? '' : `; best slices ${fmtRatio(c.best)}`})`;
    lines.push(
      `- ${ok === undefined ? 'N/A ' : ok ? '**PASS**' : '**FAIL**'} ${c.name}: ${c.unit === undefined || c.value === undefined ? fmtRatio(c.value) : `${fmt(c.value, c.digits ?? 0)} ${c.unit}`}${each}`,
    );
  }
  lines.push('', '![msgs/s and p99 against connections](benchmarks.svg)', '');
  if (d.warnings.length > 0) {
    lines.push(
      '<details><summary>Warnings during the run</summary>',
      '',
      ...d.warnings.map((w) => `- ${w}`),
      '',
      '</details>',
      '',
    );
  }
  return lines.join('\n');
}

/** The interleaved phase's table: median and best slice, pooled CPU, per server and C. */
function slicesSection(run: Interleaved): string[] {
  const { clist, slices, seconds, warmup } = run.knobs;
  const base = run.figures.get('node_net');
  return [
    '### Interleaved slices (throughput ratios)',
    '',
    `Every server started once and kept up; then ${slices} slices, each taking ${warmup} s warm-up + ${seconds} s of pingpong from every server in turn at each C (the order rotating and reversing slice by slice). ` +
      "msg/s = median over the slices (best slice in brackets); vs net = the median of per-slice ratios to node_net; CPU µs/msg pooled over all slices, with in brackets its user part (user share from /proc/<pid>/stat sampled inside each slice's measured window) and, after the semicolon, the user part with the share taken over whole slices, accepting and closing the connections included.",
    '',
    table(
      [
        'server',
        ...clist.flatMap((c) => [
          `C=${fmt(c)} msg/s (best)`,
          'vs net',
          'CPU µs/msg (user; whole slices)',
        ]),
      ],
      [...run.figures.entries()].map(([label, byC]) => [
        `\`${label}\``,
        ...clist.flatMap((c) => {
          const f = byC.get(c);
          return [
            `${fmt(median(f?.msgs ?? []))} (${fmt(maximum(f?.msgs ?? []))})`,
            base === undefined ? '–' : fmtRatio(sliceRatio(run, label, 'node_net', c)?.value),
            `${fmt(f?.cpuUs, 2)} (${fmt(f?.userUs, 2)}; ${fmt(f?.wholeUserUs, 2)})`,
          ];
        }),
      ]),
      'l',
    ),
  ];
}
