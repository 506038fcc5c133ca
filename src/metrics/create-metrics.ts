/**
 * Prometheus metrics of one or more servers: a prom-client `Registry` whose aionet metrics read
 * the servers' running totals when scraped, plus prom-client's default process metrics, which
 * include Node's event-loop lag.
 *
 * Nothing is counted here. Transports already add to plain numbers on the hot path
 * (`server.stats`); each metric's `collect()` copies them at scrape time. A read therefore costs
 * a field increment, never a prom-client call (a label hash and a map lookup per `inc()`), which
 * is how counting stays cheap: see docs/operations.md for the measured cost.
 */
import { createRequire } from 'node:module';
import type * as PromClient from 'prom-client';
import type { Registry } from 'prom-client';
import type { ServerStats } from '../connection-registry.js';
import { InvalidArgumentError } from '../errors.js';
import { Server } from '../server.js';

/** Options of `createMetrics`. */
export interface MetricsOptions {
  /** The registry to add the metrics to, e.g. one your HTTP framework already serves. @default a new `Registry` */
  readonly registry?: Registry;
  /** What every aionet metric name starts with. @default 'aionet_' */
  readonly prefix?: string;
  /**
   * Also register prom-client's default metrics (`collectDefaultMetrics`): process CPU and
   * memory, heap, GC, open descriptors and the event-loop lag (`nodejs_eventloop_lag_seconds`
   * and its `_p50`/`_p90`/`_p99`/… percentiles from `monitorEventLoopDelay`). Skipped when the
   * registry already has them.
   * @default true
   */
  readonly defaultMetrics?: boolean;
}

/**
 * prom-client, loaded on the first `createMetrics` call: loading it takes about 100 ms, which a
 * program that imports aionet but exports no metrics should not pay. It is a CommonJS package,
 * so `require` loads it synchronously and `createMetrics` can stay synchronous.
 */
let promClient: typeof PromClient | undefined;

function loadPromClient(): typeof PromClient {
  promClient ??= createRequire(import.meta.url)('prom-client') as typeof PromClient;
  return promClient;
}

/** The default metric-name prefix. */
export const DEFAULT_METRICS_PREFIX = 'aionet_';

/** A counter read from the servers' totals: name (after the prefix), help, what it reads. */
type CounterSource = readonly [name: string, help: string, read: (stats: ServerStats) => number];

const COUNTERS: readonly CounterSource[] = [
  ['connections_accepted_total', 'Connections accepted and served.', (s) => s.accepted],
  [
    'connections_rejected_total',
    'Connections turned away because the server was at maxConnections.',
    (s) => s.rejected,
  ],
  ['bytes_received_total', 'Bytes read from peers.', (s) => s.bytesReceived],
  [
    'bytes_sent_total',
    'Bytes protocols wrote (queued for sending; a reset drops what was not sent yet).',
    (s) => s.bytesSent,
  ],
  [
    'messages_received_total',
    'Reads delivered to protocols (dataReceived calls and bufferUpdated rounds); with a ' +
      'framing this counts reads, not frames.',
    (s) => s.reads,
  ],
  [
    'write_buffer_paused_total',
    'Times a connection write buffer went over its high-water mark (writing paused).',
    (s) => s.writePauses,
  ],
  ['tls_handshakes_total', 'TLS handshakes completed (servers with tls).', (s) => s.tlsHandshakes],
  [
    'proxy_accepted_total',
    'PROXY protocol headers accepted, LOCAL ones included (servers with proxyProtocol).',
    (s) => s.proxyAccepted,
  ],
];

/** A counter with one label: name (after the prefix), help, the label, its values and counts. */
type LabelledSource = readonly [
  name: string,
  help: string,
  label: string,
  read: (stats: ServerStats) => Iterable<[string, number]>,
];

const LABELLED_COUNTERS: readonly LabelledSource[] = [
  [
    'connections_closed_total',
    'Connections that ended, by reason: normal, reset, idle_timeout, write_stall, ' +
      'write_overflow, callback_error, protocol_error, error.',
    'reason',
    (s) => Object.entries(s.closed),
  ],
  [
    'errors_total',
    'Errors by stable code (ERR_AIONET_*, or a system code such as EMFILE).',
    'code',
    (s) => s.errors.entries(),
  ],
  [
    'tls_handshake_failures_total',
    'TLS handshakes that failed, by reason (also in connections_closed_total{reason="protocol_error"}).',
    'reason',
    (s) => Object.entries(s.tlsHandshakeFailures),
  ],
  [
    'proxy_rejected_total',
    'Connections the PROXY protocol stage turned away, by reason (also in ' +
      'connections_closed_total{reason="protocol_error"}).',
    'reason',
    (s) => Object.entries(s.proxyRejected),
  ],
];

/** Metric names Prometheus accepts (the prefix must keep them valid). */
const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

/** A metric every default-metrics registration adds: its presence means "already there". */
const DEFAULT_METRICS_MARKER = 'nodejs_eventloop_lag_seconds';

/**
 * Make a prom-client registry for `servers` (their totals are summed). Mount it anywhere:
 * `serveMetrics({ registry })`, or your own HTTP server with `await registry.metrics()` and
 * `registry.contentType`. Servers that close keep their last totals.
 * @throws InvalidArgumentError when `servers` holds something else than a `Server`, the prefix
 *   makes invalid names, or the registry already has aionet's metrics under this prefix.
 */
export function createMetrics(
  servers: Server | readonly Server[],
  options: MetricsOptions = {},
): Registry {
  const list: readonly Server[] = servers instanceof Server ? [servers] : servers;
  if (!Array.isArray(list) || !list.every((server) => server instanceof Server)) {
    throw new InvalidArgumentError('createMetrics() takes a Server or an array of Servers');
  }
  const prefix = options.prefix ?? DEFAULT_METRICS_PREFIX;
  if (typeof prefix !== 'string' || !METRIC_NAME.test(`${prefix}x`)) {
    throw new InvalidArgumentError(`metric prefix ${String(prefix)} makes invalid metric names`);
  }
  const { Counter, Gauge, Registry, collectDefaultMetrics } = loadPromClient();
  const registry = options.registry ?? new Registry();
  const name = (suffix: string): string => {
    const full = prefix + suffix;
    if (registry.getSingleMetric(full) !== undefined) {
      throw new InvalidArgumentError(`the registry already has a metric named ${full}`);
    }
    return full;
  };
  const registers = [registry];
  const sum = (read: (server: Server) => number): number => {
    let total = 0;
    for (const server of list) total += read(server);
    return total;
  };

  new Gauge({
    name: name('connections_active'),
    help: 'Connections open now.',
    registers,
    collect() {
      this.set(sum((server) => server.connectionCount()));
    },
  });
  new Gauge({
    name: name('connections_max'),
    help: 'The connection limit (maxConnections); +Inf when there is none.',
    registers,
    collect() {
      this.set(sum((server) => server.limits.maxConnections));
    },
  });
  for (const [suffix, help, read] of COUNTERS) {
    new Counter({
      name: name(suffix),
      help,
      registers,
      collect() {
        this.reset();
        this.inc(sum((server) => read(server.stats)));
      },
    });
  }
  for (const [suffix, help, label, read] of LABELLED_COUNTERS) {
    new Counter({
      name: name(suffix),
      help,
      labelNames: [label],
      registers,
      collect() {
        this.reset();
        for (const [value, count] of totals(list, read)) this.inc({ [label]: value }, count);
      },
    });
  }

  if (options.defaultMetrics !== false && !registry.getSingleMetric(DEFAULT_METRICS_MARKER)) {
    collectDefaultMetrics({ register: registry });
  }
  return registry;
}

/** Sums labelled totals over the servers: every label any of them has. */
function totals(
  servers: readonly Server[],
  entries: (stats: ServerStats) => Iterable<[string, number]>,
): Map<string, number> {
  const result = new Map<string, number>();
  for (const server of servers) {
    for (const [label, count] of entries(server.stats)) {
      result.set(label, (result.get(label) ?? 0) + count);
    }
  }
  return result;
}
