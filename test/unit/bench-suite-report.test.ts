/**
 * The benchmark suite's pure parts (bench/lib): loadgen RESULT-line and `aionet bench --json`
 * parsing, median and ratio, the computed targets, the SVG chart (well-formed XML), and the
 * rewrite of docs/benchmarks.md that keeps everything outside the suite's markers. No load.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checks, composeSection, seriesOf, summarize } from '../../bench/lib/doc.js';
import { type Interleaved, sliceOrder, sliceRatio } from '../../bench/lib/interleaved.js';
import type { RoundResult } from '../../bench/lib/measure.js';
import { chart, replaceSection, SECTION_END, SECTION_START } from '../../bench/lib/report.js';
import { median, num, parseBenchJson, parseResult, passes, ratio } from '../../bench/lib/stats.js';

const LOADGEN_OUT = [
  'PHASE phase=connected connected=100',
  'RESULT mode=pingpong label=x conns=100 connected=100 msgs=500000 msgs_per_s=100000 p99_us=812.5 errors=0 server_cpu_pct=95.0',
  '# pingpong x: 100 conns',
].join('\n');

test('parseResult reads the key=value fields of the RESULT line', () => {
  const r = parseResult(LOADGEN_OUT);
  assert.equal(r.mode, 'pingpong');
  assert.equal(num(r, 'msgs_per_s'), 100000);
  assert.equal(num(r, 'p99_us'), 812.5);
  assert.equal(num(r, 'missing'), undefined);
  assert.deepEqual(parseResult('no result here\n'), {});
});

test('parseBenchJson reads msgs/s and p99 of aionet bench --json', () => {
  const out =
    'noise\n{"mode":"pingpong","msgs_per_s":78566.3,"errors":0,"latency_us":{"p99":9035.8}}\n';
  assert.deepEqual(parseBenchJson(out), { msgs: 78566.3, p99: 9035.8, errors: 0 });
  assert.equal(parseBenchJson('{broken'), undefined);
});

test('median and ratio', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.equal(median([undefined, 5]), 5);
  assert.equal(median([]), undefined);
  assert.equal(ratio(95, 100), 0.95);
  assert.equal(ratio(1, 0), undefined);
  assert.equal(ratio(undefined, 1), undefined);
  assert.equal(passes({ name: 'x', value: 0.95, threshold: 0.95, op: '>=' }), true);
  assert.equal(passes({ name: 'x', value: 1.2, threshold: 1.1, op: '<=' }), false);
  assert.equal(passes({ name: 'x', value: undefined, threshold: 1, op: '<=' }), undefined);
});

function round(msgs: Record<number, number>, idle: number, churn: number): RoundResult {
  return {
    ping: new Map(
      Object.entries(msgs).map(([c, m]) => [
        Number(c),
        { msgs: m, p99: 1500, cpuUs: 10, userUs: 6 },
      ]),
    ),
    churn,
    idleBytes: idle,
    warnings: [],
    quiet: [{ busy: 80, quiet: false, load1: 12 }],
  };
}

const CLIST = [1, 100, 1000];
const summaries = new Map([
  ['node_net', summarize('node_net', [round({ 1: 10, 100: 100, 1000: 100 }, 3000, 9000)], CLIST)],
  ['aionet', summarize('aionet', [round({ 1: 10, 100: 96, 1000: 90 }, 3200, 8000)], CLIST)],
  ['aionet_line', summarize('aionet_line', [round({ 100: 80 }, 0, 0)], CLIST)],
]);

test('targets are computed from the medians', () => {
  const list = checks(summaries, [{ c: 100, aionet: 85, warnings: [] }]);
  const byName = (part: string) => list.find((c) => c.name.includes(part));
  assert.equal(passes(byName('C=100 / node_net')!), true);
  assert.equal(passes(byName('C=1000 / node_net')!), false);
  assert.equal(passes(byName('idle conn')!), true);
  assert.equal(passes(byName('framing line')!), false);
  assert.equal(passes(byName('aionet bench')!), true);
});

test('slices rotate and reverse, so no server keeps its place or its neighbour', () => {
  const servers = ['a', 'b', 'c'];
  const orders = [0, 1, 2, 3].map((i) => sliceOrder(servers, i).join(''));
  assert.deepEqual(orders, ['abc', 'acb', 'cab', 'cba']);
  for (const order of orders) assert.deepEqual([...order].sort(), servers);
});

/** A phase's figures: per server, msgs/s of each slice at C=100. */
function slicesOf(msgs: Record<string, (number | undefined)[]>, userUs?: number): Interleaved {
  return {
    knobs: { clist: [100], slices: 4, seconds: 2, warmup: 1 },
    figures: new Map(
      Object.entries(msgs).map(([label, list]) => [
        label,
        new Map([[100, { msgs: list, cpuUs: 5, ...(userUs === undefined ? {} : { userUs }) }]]),
      ]),
    ),
    warnings: [],
  };
}

test('a ratio from slices pairs each slice, and reports the best slices beside the median', () => {
  // The machine slowed slices 2 and 3 for whichever server ran then: pairing cancels it.
  const run = slicesOf({ line: [95, 60, 50, 96], none: [100, 62, 55, 100] });
  const r = sliceRatio(run, 'line', 'none', 100)!;
  assert.deepEqual(
    r.rounds.map((x) => x.toFixed(3)),
    ['0.950', '0.968', '0.909', '0.960'],
  );
  assert.equal(r.value!.toFixed(3), '0.955');
  assert.equal(r.best, 0.96);
  assert.equal(r.basis, 'slices');
  // A failed slice is left out of the pairs; a server the phase did not run gives nothing.
  assert.deepEqual(
    sliceRatio(slicesOf({ a: [1, undefined], b: [2, 2] }), 'a', 'b', 100)?.rounds,
    [0.5],
  );
  assert.equal(sliceRatio(run, 'line', 'missing', 100), undefined);
  assert.equal(sliceRatio(run, 'line', 'none', 1000), undefined);
});

test('targets take throughput ratios and user CPU from the slices when the phase ran', () => {
  const rounds = new Map([
    ['node_net', summarize('node_net', [round({ 100: 100, 1000: 100 }, 3000, 9000)], [100, 1000])],
    ['native', summarize('native', [round({ 100: 100, 1000: 150 }, 300, 15000)], [100, 1000])],
    ['native_line', summarize('native_line', [round({ 100: 80 }, 0, 0)], [100, 1000])],
  ]);
  const byName = (list: ReturnType<typeof checks>, part: string) =>
    list.find((c) => c.name.includes(part));
  const withoutSlices = checks(rounds, []);
  assert.equal(passes(byName(withoutSlices, 'auto = native) --framing line')!), false);
  assert.equal(byName(withoutSlices, 'native user CPU µs per message at C=100')?.value, 6);
  const run = slicesOf({ node_net: [100, 100], native: [140, 100], native_line: [133, 95] }, 0.55);
  const withSlices = checks(rounds, [], run);
  const line = byName(withSlices, 'auto = native) --framing line')!;
  assert.equal(passes(line), true);
  assert.equal(line.basis, 'slices');
  assert.equal(line.value!.toFixed(3), '0.950');
  const cpu = byName(withSlices, 'native user CPU µs per message at C=100')!;
  assert.equal(cpu.value, 0.55);
  assert.match(cpu.name, /pooled over the interleaved slices/);
  // C=1000 was not in the phase: its ratio still comes from the rounds.
  assert.equal(byName(withSlices, 'native msgs/s at C=1000 / node_net')?.value, 1.5);
});

test('the section names the command, warns of a busy machine and prints PASS/FAIL', () => {
  const text = composeSection({
    summaries,
    gen: [{ c: 100, aionet: 85, warnings: [] }],
    knobs: {
      clist: CLIST,
      duration: 2,
      warmup: 1,
      holdConns: 10000,
      churnConc: 64,
      quietMax: 25,
      quietTries: 1,
    },
    repeats: 1,
    command: 'REPEATS="1" npm run bench',
    quick: true,
    started: new Date(0),
    minutes: 3,
    warnings: ['x: machine busy'],
    busy: [80],
    loads: [12],
  });
  assert.match(text, /Quick run/);
  assert.match(text, /WARNING: the machine was busy/);
  assert.match(text, /`REPEATS="1" npm run bench`/);
  assert.match(text, /\*\*PASS\*\*/);
  assert.match(text, /\*\*FAIL\*\*/);
  assert.match(text, /\| `aionet` \| 10 \|/);
});

/** A rough XML well-formedness check: tags nest and close, attributes are quoted. */
function assertWellFormed(xml: string): void {
  const body = xml.replace(/^<\?xml[^>]*\?>\s*/, '');
  const stack: string[] = [];
  let roots = 0;
  for (const m of body.matchAll(/<(\/?)([a-zA-Z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/g)) {
    const [, close, name, , self] = m;
    if (close === '/') assert.equal(stack.pop(), name, `unbalanced </${name}>`);
    else if (self !== '/') {
      if (stack.length === 0) roots++;
      stack.push(name ?? '');
    }
  }
  assert.equal(stack.length, 0, `unclosed: ${stack.join(',')}`);
  assert.equal(roots, 1);
  // Every '<' starts a tag the pattern above accepted; text has no raw '&' or '<'.
  const stripped = body.replace(/<(\/?)([a-zA-Z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/g, '');
  assert.doesNotMatch(stripped, /<|&(?!(amp|lt|gt|quot);)/);
}

test('the SVG chart is well-formed XML with one line per server', () => {
  const s = seriesOf(summaries, CLIST);
  const svg = chart(s.msgs, s.p99, 'quick run <test> & more');
  assert.match(svg, /^<\?xml/);
  assertWellFormed(svg);
  assert.equal((svg.match(/<polyline/g) ?? []).length, 4); // node_net, aionet in two panels
  assert.match(svg, /aionet_line/);
});

test('replaceSection keeps everything outside the markers', () => {
  const before = `# Benchmarks\n\nintro\n\n${SECTION_START}\nold figures\n${SECTION_END}\n\n## Workers (100k)\nkeep me\n`;
  const after = replaceSection(before, 'new figures');
  assert.equal(after, before.replace('old figures', 'new figures'));
  assert.equal(replaceSection(after, 'new figures'), after);
  const fresh = replaceSection(undefined, 'x');
  assert.equal(fresh, `# Benchmarks\n\n${SECTION_START}\nx\n${SECTION_END}\n`);
  const noMarkers = replaceSection('# Benchmarks\n\n## TLS\ntls figures\n', 'x');
  assert.ok(noMarkers.includes('## TLS\ntls figures\n'));
  assert.ok(noMarkers.indexOf(SECTION_START) < noMarkers.indexOf('## TLS'));
});
