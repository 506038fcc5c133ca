/**
 * The human report of a run: the final table, and the number formats the live status line
 * shares with it. The `--json` output is the summary itself (see `summary.ts`).
 */
import { ERROR_KINDS } from './error-kinds.js';
import type { BenchSummary } from './summary.js';

const COUNT_FORMAT = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });

/** `1234567.8` as `1,234,567.8`. */
export function formatCount(value: number): string {
  return COUNT_FORMAT.format(value);
}

/** A latency given in microseconds, in the unit that keeps it readable: `850.3 us`, `1.23 ms`. */
export function formatLatency(micros: number): string {
  if (micros < 1000) return `${micros.toFixed(1)} us`;
  if (micros < 1_000_000) return `${(micros / 1000).toFixed(2)} ms`;
  return `${(micros / 1_000_000).toFixed(2)} s`;
}

/** The final table of a run. */
export function formatTable(summary: BenchSummary): string {
  const rows: [string, string][] = [];
  const processes = summary.processes === 1 ? '1 process' : `${summary.processes} processes`;
  rows.push(['mode', `${summary.mode} against ${summary.target}`]);
  rows.push([
    'connections',
    `${formatCount(summary.connections)} (${formatCount(summary.connected)} up), ${processes}`,
  ]);
  if (summary.mode === 'hold') {
    rows.push(['connect', `${summary.connect_s?.toFixed(3)} s to open`]);
    rows.push(['verify', `${summary.verify_s?.toFixed(3)} s for one round trip on each`]);
    rows.push(['held', `${formatCount(summary.held ?? 0)} for ${summary.duration_s.toFixed(3)} s`]);
  } else {
    const warmup = summary.warmup_s > 0 ? ` after ${summary.warmup_s} s of warm-up` : '';
    rows.push(['duration', `${summary.duration_s.toFixed(3)} s${warmup}`]);
  }
  if (summary.target_rate !== undefined) {
    rows.push(['target rate', `${formatCount(summary.target_rate)} msgs/s`]);
  }
  rows.push(['messages', formatCount(summary.messages)]);
  if (summary.conns_per_s !== undefined) {
    rows.push(['conns/s', formatCount(summary.conns_per_s)]);
  } else {
    rows.push(['msgs/s', formatCount(summary.msgs_per_s)]);
  }
  const errors = ERROR_KINDS.filter((kind) => summary.errors_by_kind[kind] > 0)
    .map((kind) => `${kind} ${formatCount(summary.errors_by_kind[kind])}`)
    .join(', ');
  rows.push(['errors', summary.errors === 0 ? '0' : `${formatCount(summary.errors)}: ${errors}`]);

  const width = Math.max(...rows.map(([label]) => label.length)) + 2;
  const lines = rows.map(([label, value]) => `${label.padEnd(width)}${value}`);
  lines.push(...latencyLines(summary, width));
  return `${lines.join('\n')}\n`;
}

function latencyLines(summary: BenchSummary, width: number): string[] {
  const latency = summary.latency_us;
  const columns: [string, number][] = [
    ['p50', latency.p50],
    ['p90', latency.p90],
    ['p99', latency.p99],
    ['p99.9', latency.p999],
    ['max', latency.max],
    ['mean', latency.mean],
  ];
  const cells = columns.map(([name, micros]) => [
    name,
    summary.messages === 0 ? '-' : formatLatency(micros),
  ]);
  const cellWidth = Math.max(...cells.map(([, text]) => (text ?? '').length)) + 2;
  const label = summary.mode === 'churn' ? 'cycle' : 'latency';
  const head = cells.map(([name]) => (name ?? '').padEnd(cellWidth)).join('');
  const body = cells.map(([, text]) => (text ?? '').padEnd(cellWidth)).join('');
  return [`${label.padEnd(width)}${head.trimEnd()}`, `${''.padEnd(width)}${body.trimEnd()}`];
}
