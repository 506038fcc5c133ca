/**
 * `serveWorkers`: the library's way to run one protocol on every core. The calling process
 * becomes the primary — it serves no connection itself — and starts `workers` processes that
 * each import `module`, call its `export` with `args` to get the protocol factory, and listen
 * with `server` options on the same address (see `mode.ts` for how they share it).
 *
 * ```ts
 * // main.ts
 * const group = await serveWorkers({
 *   workers: 'auto',
 *   module: new URL('./echo-protocol.js', import.meta.url),
 *   server: { host: '0.0.0.0', port: 7000 },
 * });
 * // echo-protocol.js: export default () => () => new EchoProtocol();
 * ```
 */
import { fileURLToPath, pathToFileURL } from 'node:url';
import { resolveBackend } from '../backend.js';
import { serveMetrics } from '../metrics/serve-metrics.js';
import type { ServerOptions } from '../options.js';
import type { SocketAddress } from '../transport.js';
import { pickFreePort } from './free-port.js';
import type { SlotStatus } from './group.js';
import { GroupRegistry } from './group-metrics.js';
import { WORKER_METRICS_ENV } from './messages.js';
import { chooseMode, type WorkerMode } from './mode.js';
import {
  DEFAULT_START_TIMEOUT_MS,
  type GroupSettings,
  resolveDrainTimeout,
  resolveRestartPolicy,
  resolveWorkerCount,
} from './options.js';
import { type GroupOutput, runGroup } from './run-group.js';

/** The server options a worker can be given: plain data (they cross a process boundary). */
export type WorkerServerOptions = Omit<
  ServerOptions,
  'onError' | 'signal' | 'clock' | 'rejectMessage' | 'reusePort'
> & {
  /** Sent to connections turned away by `maxConnections`, before the FIN. */
  readonly rejectMessage?: string;
};

/** Options of `serveWorkers`. */
export interface ServeWorkersOptions extends GroupSettings {
  /**
   * The module every worker imports: a path or a `file:` URL. Its `export` is called once per
   * worker with `args` and returns the protocol factory (or a promise of it).
   */
  readonly module: string | URL;
  /** Which export of `module` makes the factory. @default 'default' */
  readonly export?: string;
  /** Passed to the export in every worker; must survive `JSON.stringify`. */
  readonly args?: unknown;
  /** How every worker listens. */
  readonly server?: WorkerServerOptions;
  /** Serve the group's merged metrics and `/healthz` on this port (the primary listens). */
  readonly metrics?: { readonly port: number; readonly host?: string };
  /** Handle SIGINT, SIGTERM (drain) and SIGHUP (roll) in this process. @default true */
  readonly signals?: boolean;
  /** Where the report, news and errors go. @default stdout and stderr */
  readonly output?: GroupOutput;
}

/** A running worker group. */
export interface WorkerGroupHandle {
  /** Where the group listens. */
  readonly addresses: readonly SocketAddress[];
  readonly mode: WorkerMode;
  readonly workers: number;
  /** The metrics endpoint's URL, when `metrics` was given. */
  readonly metricsUrl: string | undefined;
  /** Each slot: up or not, its process id, its restarts. */
  status(): SlotStatus[];
  /** Rolling restart (what SIGHUP does); resolves when every slot has rolled. */
  roll(): Promise<void>;
  /** Drain every worker (what SIGTERM does); resolves with the exit status when all are gone. */
  shutdown(): Promise<number>;
  /** Resolves with the exit status when the group is gone (drained, or crash-looping). */
  readonly closed: Promise<number>;
}

/** The environment variable carrying a library worker's plan (JSON). */
export const WORKER_SPEC_ENV = 'AIONET_WORKER_SPEC';

/** What a library worker reads from `WORKER_SPEC_ENV`. */
export interface WorkerSpec {
  readonly module: string;
  readonly export: string;
  readonly args: unknown;
  readonly server: WorkerServerOptions;
  readonly drainTimeout: number;
}

/** The library worker's entry, next to this module, as source or compiled. */
const WORKER_MAIN = fileURLToPath(
  new URL(`./worker-main${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url),
);

/**
 * Start a worker group; resolves once every worker listened once.
 * @throws InvalidArgumentError for bad options.
 * @throws Error when the first worker cannot start (its message says why).
 */
export async function serveWorkers(options: ServeWorkersOptions): Promise<WorkerGroupHandle> {
  const workers = resolveWorkerCount(options.workers);
  const mode = chooseMode(
    resolveBackend(options.server?.transport),
    options.server?.path !== undefined,
  );
  const drainTimeout = resolveDrainTimeout(options.drainTimeout);
  // Cluster mode on port 0: one port for the group's whole life (see free-port.ts).
  let server = options.server ?? {};
  if (mode === 'cluster' && server.path === undefined && (server.port ?? 0) === 0) {
    const host = typeof server.host === 'string' ? server.host : server.host?.[0];
    server = { ...server, port: await pickFreePort(host) };
  }
  const moduleUrl =
    options.module instanceof URL ? options.module.href : pathToFileURL(options.module).href;
  const spec = (port: number | undefined): WorkerSpec => ({
    module: moduleUrl,
    export: options.export ?? 'default',
    args: options.args ?? null,
    server: port === undefined ? server : { ...server, port },
    drainTimeout,
  });
  let metricsUrl: string | undefined;
  const run = runGroup(
    {
      workers,
      mode,
      launch: (port) => ({
        exec: WORKER_MAIN,
        args: [],
        env: {
          [WORKER_SPEC_ENV]: JSON.stringify(spec(port)),
          ...(options.metrics === undefined ? {} : { [WORKER_METRICS_ENV]: '1' }),
        },
      }),
      restart: resolveRestartPolicy(options.restart),
      startTimeout: options.startTimeout ?? DEFAULT_START_TIMEOUT_MS,
      drainTimeout,
    },
    {
      signals: options.signals ?? true,
      ...(options.output === undefined ? {} : { output: options.output }),
      onStarted: async (group) => {
        if (options.metrics === undefined) return undefined;
        const endpoint = await serveMetrics({
          registry: new GroupRegistry(group),
          port: options.metrics.port,
          host: options.metrics.host ?? '127.0.0.1',
          isDraining: () => run.isStopping() || !group.status().some((slot) => slot.up),
        });
        metricsUrl = endpoint.url;
        return () => endpoint.close();
      },
    },
  );
  await run.started;
  const { group } = run;
  return {
    addresses: group.addresses,
    mode,
    workers,
    metricsUrl,
    status: () => group.status(),
    roll: () => group.roll(),
    shutdown: () => {
      run.stop();
      return run.exitCode;
    },
    closed: run.exitCode,
  };
}
