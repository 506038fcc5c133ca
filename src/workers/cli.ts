/**
 * `aionet serve --workers N|auto`: the primary's side of the command. It decides the mode, runs
 * the same `aionet serve` command line in every worker (minus the flags only the primary
 * obeys), serves the group's metrics, and supervises until the group is gone.
 *
 * Every worker runs the unchanged `serve` code, so every serve flag (framing, transport, limits,
 * TLS, PROXY protocol) means the same with workers as without.
 */
import { fileURLToPath } from 'node:url';
import { resolveBackend } from '../backend.js';
import { UsageError } from '../cli/usage.js';
import { AionetError } from '../errors.js';
import { serveMetrics } from '../metrics/serve-metrics.js';
import { pickFreePort } from './free-port.js';
import { GroupRegistry } from './group-metrics.js';
import { WORKER_METRICS_ENV } from './messages.js';
import { chooseMode } from './mode.js';
import {
  DEFAULT_START_TIMEOUT_MS,
  resolveDrainTimeout,
  resolveRestartPolicy,
  resolveWorkerCount,
} from './options.js';
import { EXIT_FAILURE, runGroup } from './run-group.js';
import type { WorkerLaunch } from './worker-process.js';

/** The `aionet` executable the workers run. */
const BIN = fileURLToPath(new URL('../../bin/aionet.js', import.meta.url));

/** Flags only the primary obeys, with whether they take a value. */
const PRIMARY_FLAGS: Readonly<Record<string, boolean>> = {
  '--workers': true,
  '--metrics-port': true,
  '--metrics-host': true,
};

/** What `serve` parsed that the primary needs. */
export interface ServeWorkersFlags {
  /** `--workers`: a count or `auto`. */
  readonly workers: string;
  /** `--transport`. @default 'auto' */
  readonly transport?: string | undefined;
  /** Whether `--path` was given (Unix socket). */
  readonly unixPath: boolean;
  /** `--port`, parsed (0: any free port). */
  readonly port?: number | undefined;
  /** The first `--host`. @default 'localhost' */
  readonly host?: string | undefined;
  /** `--metrics-port`, parsed. */
  readonly metricsPort?: number | undefined;
  /** `--metrics-host`. @default '127.0.0.1' */
  readonly metricsHost?: string | undefined;
  /** Drain timeout in ms (`--drain-timeout`). @default 10000 */
  readonly drainTimeoutMs?: number | undefined;
}

/** Parses `--workers`: `auto` or a whole number from 1. */
export function parseWorkers(text: string): number | 'auto' {
  if (text === 'auto') return 'auto';
  if (!/^\d+$/.test(text) || Number(text) < 1) {
    throw new UsageError(`--workers must be auto or a whole number >= 1, got '${text}'`);
  }
  return Number(text);
}

/** Runs `aionet serve` as a worker group; resolves with the primary's exit status. */
export async function serveWorkersCommand(
  argv: readonly string[],
  flags: ServeWorkersFlags,
): Promise<number> {
  let workers: number;
  let mode: ReturnType<typeof chooseMode>;
  try {
    workers = resolveWorkerCount(parseWorkers(flags.workers));
    const transport = flags.transport ?? 'auto';
    if (transport !== 'auto' && transport !== 'native' && transport !== 'net') {
      throw new UsageError(`--transport must be auto, native or net, got '${transport}'`);
    }
    mode = chooseMode(resolveBackend(transport), flags.unixPath);
  } catch (error) {
    if (error instanceof AionetError) throw new UsageError(error.message);
    throw error;
  }
  let workerArgv = withoutPrimaryFlags(argv);
  // Cluster mode on port 0: one port for the group's whole life (see free-port.ts).
  if (mode === 'cluster' && !flags.unixPath && flags.port === 0) {
    workerArgv = withPort(workerArgv, await pickFreePort(flags.host ?? 'localhost'));
  }
  const metricsOn = flags.metricsPort !== undefined;
  const run = runGroup(
    {
      workers,
      mode,
      launch: (port) => launchFor(workerArgv, port, metricsOn),
      restart: resolveRestartPolicy(),
      startTimeout: DEFAULT_START_TIMEOUT_MS,
      drainTimeout: resolveDrainTimeout(flags.drainTimeoutMs),
    },
    {
      onStarted: async (group) => {
        if (flags.metricsPort === undefined) return undefined;
        const endpoint = await serveMetrics({
          registry: new GroupRegistry(group),
          port: flags.metricsPort,
          host: flags.metricsHost ?? '127.0.0.1',
          isDraining: () => run.isStopping() || !group.status().some((slot) => slot.up),
        });
        process.stdout.write(`Metrics on ${endpoint.url} (merged over ${workers} workers)\n`);
        return () => endpoint.close();
      },
    },
  );
  try {
    await run.started;
  } catch {
    return EXIT_FAILURE;
  }
  return run.exitCode;
}

/** The worker's command line: `serve` and the user's flags, minus the primary's. */
export function withoutPrimaryFlags(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const name = arg.includes('=') ? arg.slice(0, arg.indexOf('=')) : arg;
    const takesValue = PRIMARY_FLAGS[name];
    if (takesValue === undefined) {
      out.push(arg);
      continue;
    }
    if (takesValue && !arg.includes('=')) i++;
  }
  return out;
}

/** `argv` asking for `port`. */
function withPort(argv: readonly string[], port: number): string[] {
  const args = [...argv];
  const index = args.findIndex((arg) => arg === '--port' || arg.startsWith('--port='));
  if (index === -1) args.push('--port', String(port));
  else if (args[index] === '--port') args[index + 1] = String(port);
  else args[index] = `--port=${port}`;
  return args;
}

function launchFor(
  argv: readonly string[],
  port: number | undefined,
  metrics: boolean,
): WorkerLaunch {
  const args = ['serve', ...(port === undefined ? argv : withPort(argv, port))];
  return {
    exec: BIN,
    args,
    execArgv: process.execArgv,
    ...(metrics ? { env: { [WORKER_METRICS_ENV]: '1' } } : {}),
  };
}
