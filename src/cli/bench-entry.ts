/**
 * Runs `aionet bench` on its own, without the `aionet` dispatcher: the process arguments are the
 * bench flags. Used by the bench tests and by hand (`npx tsx src/cli/bench-entry.ts --help`).
 */
import { benchCommand } from './bench.js';

process.exitCode = await benchCommand(process.argv.slice(2));
