/**
 * `--assert` expressions: CI gates on a run's summary, such as `p99<10ms`, `errors=0` or
 * `msgs_per_s>50k`.
 *
 * Grammar: `METRIC OP NUMBER [UNIT]` with
 * - METRIC: a latency (`p50`, `p90`, `p99`, `p999` or `p99.9`, `max`, `mean`), a count or rate
 *   (`messages`, `msgs_per_s`, `errors`, `connected`, `held` in hold mode, `conns_per_s` in churn
 *   mode), or one error kind (`reset` or `errors.reset`, …);
 * - OP: `<`, `<=`, `>`, `>=`, `=` (or `==`), `!=`;
 * - UNIT: for latencies `us`, `ms` or `s` (required: `p99<10` would be ambiguous); for the others
 *   an optional `k` (×1,000) or `M` (×1,000,000).
 */
import { InvalidArgumentError } from '../errors.js';
import { ERROR_KINDS, isErrorKind } from './error-kinds.js';
import type { Mode } from './options.js';
import type { BenchSummary } from './summary.js';

/** A comparison operator of an assertion. */
export type Operator = '<' | '<=' | '>' | '>=' | '=' | '!=';

/** One parsed `--assert` expression. */
export interface Assertion {
  /** The expression as written. */
  readonly text: string;
  /** The canonical metric name (`p999` for `p99.9`, `reset` for `errors.reset`). */
  readonly metric: string;
  readonly operator: Operator;
  /** The bound, in the metric's unit: microseconds for latencies. */
  readonly bound: number;
}

/** The outcome of checking one assertion. */
export interface AssertionOutcome {
  readonly assertion: Assertion;
  readonly passed: boolean;
  /** The metric's value in the run, in the metric's unit. */
  readonly actual: number;
}

const LATENCY_METRICS = ['p50', 'p90', 'p99', 'p999', 'max', 'mean'] as const;
type LatencyMetric = (typeof LATENCY_METRICS)[number];

const LATENCY_UNITS: Readonly<Record<string, number>> = { us: 1, µs: 1, ms: 1e3, s: 1e6 };
const COUNT_UNITS: Readonly<Record<string, number>> = { '': 1, k: 1e3, K: 1e3, M: 1e6 };

/** Metrics every mode has, besides the latencies and the error kinds. */
const COMMON_METRICS = ['messages', 'msgs_per_s', 'errors', 'connected'] as const;
/** Metrics only one mode has. */
const MODE_METRICS: Readonly<Record<string, Mode>> = { held: 'hold', conns_per_s: 'churn' };

const EXPRESSION =
  /^\s*([A-Za-z_][A-Za-z0-9_.]*)\s*(<=|>=|==|!=|<|>|=)\s*([0-9][0-9.]*(?:e[+-]?[0-9]+)?)\s*([A-Za-zµ]*)\s*$/;

/** Every metric name an assertion may use, for the usage text. */
export const ASSERT_METRICS: readonly string[] = [
  ...LATENCY_METRICS,
  ...COMMON_METRICS,
  ...Object.keys(MODE_METRICS),
  ...ERROR_KINDS,
];

/**
 * Parses one expression for a run in `mode`.
 *
 * @throws InvalidArgumentError when the expression is malformed, names an unknown metric or one
 *   the mode does not report, or lacks a latency unit.
 */
export function parseAssertion(text: string, mode: Mode): Assertion {
  const match = EXPRESSION.exec(text);
  if (match === null) {
    throw new InvalidArgumentError(`--assert '${text}': expected METRIC OP NUMBER[UNIT]`);
  }
  const [, rawMetric = '', rawOperator = '', rawNumber = '', unit = ''] = match;
  const metric = canonicalMetric(rawMetric);
  if (metric === undefined) {
    throw new InvalidArgumentError(
      `--assert '${text}': unknown metric '${rawMetric}' (one of ${ASSERT_METRICS.join(', ')})`,
    );
  }
  const onlyIn = MODE_METRICS[metric];
  if (onlyIn !== undefined && onlyIn !== mode) {
    throw new InvalidArgumentError(`--assert '${text}': '${metric}' exists only in ${onlyIn} mode`);
  }
  const number = Number(rawNumber);
  if (!Number.isFinite(number)) {
    throw new InvalidArgumentError(`--assert '${text}': '${rawNumber}' is not a number`);
  }
  const scale = isLatencyMetric(metric) ? LATENCY_UNITS[unit] : COUNT_UNITS[unit];
  if (scale === undefined) {
    const expected = isLatencyMetric(metric) ? 'a unit us, ms or s' : 'no unit, k or M';
    throw new InvalidArgumentError(`--assert '${text}': '${metric}' takes ${expected}`);
  }
  const operator: Operator = rawOperator === '==' ? '=' : (rawOperator as Operator);
  return { text, metric, operator, bound: number * scale };
}

/** The value of an assertion's metric in a summary. */
export function metricValue(summary: BenchSummary, metric: string): number {
  if (isLatencyMetric(metric)) return summary.latency_us[metric];
  if (isErrorKind(metric)) return summary.errors_by_kind[metric];
  switch (metric) {
    case 'messages':
      return summary.messages;
    case 'msgs_per_s':
      return summary.msgs_per_s;
    case 'errors':
      return summary.errors;
    case 'connected':
      return summary.connected;
    case 'held':
      return summary.held ?? 0;
    case 'conns_per_s':
      return summary.conns_per_s ?? 0;
    default:
      throw new InvalidArgumentError(`unknown metric '${metric}'`);
  }
}

/** Checks every assertion against a summary. */
export function checkAssertions(
  assertions: readonly Assertion[],
  summary: BenchSummary,
): AssertionOutcome[] {
  return assertions.map((assertion) => {
    const actual = metricValue(summary, assertion.metric);
    return { assertion, actual, passed: compare(actual, assertion.operator, assertion.bound) };
  });
}

/** A one-line text of an outcome, with the actual value in the bound's unit. */
export function describeOutcome(outcome: AssertionOutcome): string {
  const { assertion, actual, passed } = outcome;
  const value = isLatencyMetric(assertion.metric) ? `${actual} us` : String(actual);
  return `${passed ? 'ok' : 'FAILED'}: ${assertion.text} (${assertion.metric} = ${value})`;
}

function compare(actual: number, operator: Operator, bound: number): boolean {
  switch (operator) {
    case '<':
      return actual < bound;
    case '<=':
      return actual <= bound;
    case '>':
      return actual > bound;
    case '>=':
      return actual >= bound;
    case '=':
      return actual === bound;
    case '!=':
      return actual !== bound;
  }
}

function canonicalMetric(name: string): string | undefined {
  if (name === 'p99.9') return 'p999';
  const kind = name.startsWith('errors.') ? name.slice('errors.'.length) : undefined;
  if (kind !== undefined) return isErrorKind(kind) ? kind : undefined;
  return ASSERT_METRICS.includes(name) ? name : undefined;
}

function isLatencyMetric(metric: string): metric is LatencyMetric {
  return (LATENCY_METRICS as readonly string[]).includes(metric);
}
