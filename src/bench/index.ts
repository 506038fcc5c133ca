/**
 * The load generator behind `aionet bench`, as a library: parse a command line, run it, check
 * its assertions. Public names only.
 */
export { parseBenchArgs, USAGE, unescapeText } from './args.js';
export {
  type Assertion,
  type AssertionOutcome,
  checkAssertions,
  describeOutcome,
  parseAssertion,
} from './assertions.js';
export { ERROR_KINDS, type ErrorCounts, type ErrorKind } from './error-kinds.js';
export { FRAMINGS, type Framing } from './framing.js';
export { LatencyHistogram, type LatencySummary } from './histogram.js';
export { type BenchOptions, MODES, type Mode, type Target } from './options.js';
export { formatTable } from './report.js';
export { type RunnerIo, runBench } from './runner.js';
export { type BenchSummary, mergeResults, type ProcessResult } from './summary.js';
