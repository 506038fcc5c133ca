/**
 * The `aionet` command: dispatches to `serve`, `bench` and `client`, and turns usage errors
 * into exit status 2.
 */
import { readFileSync } from 'node:fs';
import { clientCommand } from './client.js';
import { serveCommand } from './serve.js';
import { EXIT_OK, EXIT_USAGE, UsageError } from './usage.js';

export const MAIN_USAGE = `Usage: aionet <command> [options]

Commands:
  serve    run the chapter's server (localhost:7000 by default)
  bench    load-test a server and report throughput and latency
  client   an interactive line client, like nc

Run 'aionet <command> --help' for a command's options.
Options: -h, --help   show this help;  -v, --version   print the version`;

type Command = (argv: string[]) => Promise<number>;

const COMMANDS: Readonly<Record<string, () => Promise<Command>>> = {
  serve: async () => serveCommand,
  client: async () => clientCommand,
  // Loaded on demand: the load generator's modules are not needed to serve.
  bench: async () => (await import('./bench.js')).benchCommand,
};

/** Runs the command line `argv` (without `node` and the script); resolves to the exit status. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
    (name === undefined ? console.error : console.log)(MAIN_USAGE);
    return name === undefined ? EXIT_USAGE : EXIT_OK;
  }
  if (name === '-v' || name === '--version') {
    console.log(version());
    return EXIT_OK;
  }
  const load = COMMANDS[name];
  if (load === undefined) {
    console.error(`aionet: unknown command '${name}'\n\n${MAIN_USAGE}`);
    return EXIT_USAGE;
  }
  try {
    return await (await load())(rest);
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`aionet ${name}: ${error.message}\nRun 'aionet ${name} --help' for usage.`);
      return EXIT_USAGE;
    }
    throw error;
  }
}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
  return String(pkg.version);
}
