/**
 * `aionet bench`: the load generator's command. Parses the flags, runs the benchmark, prints
 * the table (or `--json`), checks every `--assert`, and returns the exit status:
 * 0 done, 1 an assertion failed (or the run itself failed), 2 bad flags (with the usage text).
 */
import { parseBenchArgs, USAGE } from '../bench/args.js';
import { checkAssertions, describeOutcome } from '../bench/assertions.js';
import { formatTable } from '../bench/report.js';
import { runBench } from '../bench/runner.js';
import { InvalidArgumentError } from '../errors.js';

/** The run went as asked and every assertion holds. */
const EXIT_OK = 0;
/** An `--assert` failed, or the run could not complete. */
const EXIT_FAILED = 1;
/** The command line is wrong; the usage text was printed. */
const EXIT_USAGE = 2;

/** Runs `aionet bench` with the arguments after `bench`; resolves to the exit status. */
export async function benchCommand(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parseBenchArgs>;
  try {
    parsed = parseBenchArgs(argv);
  } catch (error) {
    if (!(error instanceof InvalidArgumentError)) throw error;
    process.stderr.write(`aionet bench: ${error.message}\n\n${USAGE}`);
    return EXIT_USAGE;
  }
  if (parsed.kind === 'help') {
    process.stdout.write(USAGE);
    return EXIT_OK;
  }
  const { options } = parsed;

  const abort = new AbortController();
  const onSignal = (): void => abort.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let summary: Awaited<ReturnType<typeof runBench>>;
  try {
    summary = await runBench(options, { status: process.stderr, signal: abort.signal });
  } catch (error) {
    process.stderr.write(
      `aionet bench: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    return EXIT_FAILED;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }

  process.stdout.write(options.json ? `${JSON.stringify(summary)}\n` : formatTable(summary));
  const outcomes = checkAssertions(options.assertions, summary);
  for (const outcome of outcomes) {
    if (!outcome.passed || !options.json) process.stderr.write(`${describeOutcome(outcome)}\n`);
  }
  return outcomes.every((outcome) => outcome.passed) ? EXIT_OK : EXIT_FAILED;
}
