/**
 * Pure helpers of the benchmark suite (bench/run.ts): parsing the C load generator's
 * `RESULT key=value ...` line and `aionet bench --json`, medians, ratios and number formatting.
 */

/** The key=value fields of the last `RESULT ` line in loadgen's output ({} when there is none). */
export function parseResult(out: string): Record<string, string> {
  const lines = out.split('\n').filter((l) => l.startsWith('RESULT '));
  const line = lines[lines.length - 1];
  if (line === undefined) return {};
  const fields: Record<string, string> = {};
  for (const pair of line.slice('RESULT '.length).trim().split(/\s+/)) {
    const eq = pair.indexOf('=');
    if (eq > 0) fields[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return fields;
}

/** A numeric RESULT field, or undefined when absent or not a number. */
export function num(fields: Record<string, string>, key: string): number | undefined {
  const raw = fields[key];
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  return Number.isFinite(value) ? value : undefined;
}

/** Median of the defined values (undefined when there are none). */
export function median(values: readonly (number | undefined)[]): number | undefined {
  const sorted = values.filter((v): v is number => v !== undefined).sort((a, b) => a - b);
  if (sorted.length === 0) return undefined;
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/** Largest of the defined values (undefined when there are none). */
export function maximum(values: readonly (number | undefined)[]): number | undefined {
  const defined = values.filter((v): v is number => v !== undefined);
  return defined.length === 0 ? undefined : Math.max(...defined);
}

/** a / b, undefined when either is missing or b is 0. */
export function ratio(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined || b === undefined || b === 0 ? undefined : a / b;
}

/** Thousands-separated number, `–` when missing. */
export function fmt(value: number | undefined, digits = 0): string {
  if (value === undefined || !Number.isFinite(value)) return '–';
  return value.toLocaleString('en', {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

/** `0.97x`, `–` when missing. */
export function fmtRatio(value: number | undefined): string {
  return value === undefined ? '–' : `${value.toFixed(2)}x`;
}

/** Microseconds as `812 µs` / `2.43 ms`. */
export function fmtMicros(us: number | undefined): string {
  if (us === undefined) return '–';
  return us >= 1000 ? `${(us / 1000).toFixed(2)} ms` : `${Math.round(us)} µs`;
}

/** msgs/s and p99 (µs) from `aionet bench --json` output (last JSON line). */
export function parseBenchJson(
  out: string,
): { msgs: number; p99: number; errors: number } | undefined {
  const line = out
    .split('\n')
    .filter((l) => l.trim().startsWith('{'))
    .pop();
  if (line === undefined) return undefined;
  try {
    const data = JSON.parse(line) as {
      msgs_per_s?: unknown;
      errors?: unknown;
      latency_us?: { p99?: unknown };
    };
    if (typeof data.msgs_per_s !== 'number') return undefined;
    return {
      msgs: data.msgs_per_s,
      p99: typeof data.latency_us?.p99 === 'number' ? data.latency_us.p99 : 0,
      errors: typeof data.errors === 'number' ? data.errors : 0,
    };
  } catch {
    return undefined;
  }
}

/** A computed target: `value >= threshold` (false when the value is missing). */
export interface Check {
  readonly name: string;
  readonly value: number | undefined;
  readonly threshold: number;
  /** `>=` (default) or `<=`. */
  readonly op: '>=' | '<=';
  /** For an absolute figure rather than a ratio: its unit (printed after the value). */
  readonly unit?: string;
  readonly digits?: number;
  /** For a paired ratio: each round's (or slice's), in order (the value is their median). */
  readonly rounds?: readonly number[];
  /** What `rounds` are: the suite's rounds (the default) or interleaved slices. */
  readonly basis?: 'slices' | 'rounds';
  /** For a ratio from slices: the ratio of the two servers' best slices. */
  readonly best?: number | undefined;
}

export function passes(check: Check): boolean | undefined {
  if (check.value === undefined) return undefined;
  return check.op === '>=' ? check.value >= check.threshold : check.value <= check.threshold;
}
