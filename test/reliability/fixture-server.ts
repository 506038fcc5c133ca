/**
 * The server under test, run in its own process (`node --import tsx fixture-server.ts '<json>'`)
 * so the suite can measure its RSS and descriptors and set its ulimit. It serves the ledger
 * protocol (see ledger.ts) with the limits of its JSON config, prints `listening <port>` once
 * it listens, and on SIGTERM shuts down with the configured drain timeout, writes its summary
 * and ledger as JSON to `ledgerPath`, and exits 0. An uncaught error crashes it (exit 1), which
 * every scenario checks for.
 */
import { writeFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { LengthPrefixedCodec } from '../../src/codecs/length-prefixed-codec.js';
import { LineCodec } from '../../src/codecs/line-codec.js';
import { createServer } from '../../src/create-server.js';
import type { ServerOptions } from '../../src/options.js';
import type { AnyProtocol } from '../../src/protocol.js';
import type { ShutdownSummary } from '../../src/server.js';
import type { Transport } from '../../src/transport.js';
import type { FateRates, Framing } from './ledger.js';
import { seededRandom } from './ledger.js';
import {
  type ConnRecord,
  causeKey,
  errorKey,
  type HandlerSettings,
  type LedgerBook,
  LedgerProtocol,
  ReadReplyProtocol,
} from './ledger-protocol.js';

/** What the suite asks of the fixture. */
export interface FixtureConfig {
  readonly transport: 'net' | 'native';
  readonly framing: Framing;
  /** Where the summary is written on SIGTERM. */
  readonly ledgerPath: string;
  readonly backlog?: number;
  readonly maxConnections?: number;
  readonly rejectMessage?: string;
  readonly idleTimeout?: number;
  readonly writeStallTimeout?: number;
  readonly maxWriteBuffer?: number;
  /** Largest frame (line or length-prefixed body) in bytes. @default the codec's */
  readonly maxFrame?: number;
  readonly seed?: number;
  readonly rates?: FateRates;
  readonly delayMs?: readonly [number, number];
  readonly slowMs?: number;
  /** @default true */
  readonly backpressure?: boolean;
  /** @default 5000 */
  readonly drainTimeout?: number;
}

/** What the fixture writes on SIGTERM. */
export interface FixtureSummary {
  readonly shutdown: ShutdownSummary;
  /** Milliseconds from SIGTERM to the end of `shutdown()`. */
  readonly shutdownMs: number;
  /** Date.now() at SIGTERM: with the drain timeout, when connections started to be reset. */
  readonly shutdownAt: number;
  readonly stats: {
    readonly accepted: number;
    readonly rejected: number;
    readonly closed: Record<string, number>;
    readonly errors: Record<string, number>;
  };
  /** Errors passed to `onError`, by code (`UNTYPED:<name>` for any without an aionet code). */
  readonly reported: Record<string, number>;
  /** Causes of reported callback failures, by code (`injected` for the handler's own throws). */
  readonly causes: Record<string, number>;
  /** Errors `connectionLost` got, by code (`none` for a clean end). */
  readonly lost: Record<string, number>;
  readonly made: number;
  /** Connections whose `connectionLost` ran more than once, or not yet at exit. */
  readonly lostTwice: number;
  readonly stillOpen: number;
  /** Per connection that sent a valid message: `[connId, seqs handled, lost code, lostAt]`. */
  readonly conns: [string, number[], string, number][];
  /** Peak RSS of the process in bytes, sampled every 100 ms. */
  readonly peakRss: number;
  /** The largest write buffer of any connection after a padded ack, bytes. */
  readonly maxBuffered: number;
  /** Event-loop delay over the whole run, ms: p99 and max (how long callbacks waited). */
  readonly loopDelay: { readonly p99: number; readonly max: number };
}

const config = JSON.parse(process.argv[2] ?? '{}') as FixtureConfig;

const reported: Record<string, number> = {};
const causes: Record<string, number> = {};
const lost: Record<string, number> = {};
const conns: ConnRecord[] = [];
const live = new Set<ConnRecord>();
/** Live transports, for the state dump of a shutdown that does not finish (see SIGTERM). */
const open = new Set<Transport>();
let made = 0;
let lostTwice = 0;
let maxBuffered = 0;

function bump(map: Record<string, number>, key: string): void {
  map[key] = (map[key] ?? 0) + 1;
}

const book: LedgerBook = {
  made(record) {
    made++;
    live.add(record);
  },
  lost(record) {
    if (record.lostCalls > 1) lostTwice++;
    live.delete(record);
    bump(lost, record.lost ?? 'none');
    if (record.id !== undefined) conns.push(record);
  },
  buffered(bytes) {
    maxBuffered = Math.max(maxBuffered, bytes);
  },
};

const settings: HandlerSettings = {
  seed: config.seed ?? 1,
  rates: config.rates ?? {},
  delayMs: config.delayMs ?? [0, 0],
  slowMs: config.slowMs ?? 0,
  backpressure: config.backpressure ?? true,
  random: seededRandom((config.seed ?? 1) ^ 0x5eed),
  framing: config.framing === 'length' ? 'length' : 'line',
};

const codecOptions = config.maxFrame === undefined ? {} : { maxLength: config.maxFrame };
const factory = (): AnyProtocol => {
  switch (config.framing) {
    case 'none':
      return new ReadReplyProtocol(book);
    case 'line':
      return new LedgerProtocol(new LineCodec(codecOptions), book, settings);
    case 'length':
      return new LedgerProtocol(new LengthPrefixedCodec(codecOptions), book, settings);
  }
};

const options: ServerOptions = {
  transport: config.transport,
  host: '127.0.0.1',
  port: 0,
  ...(config.backlog === undefined ? {} : { backlog: config.backlog }),
  ...(config.maxConnections === undefined ? {} : { maxConnections: config.maxConnections }),
  ...(config.rejectMessage === undefined ? {} : { rejectMessage: config.rejectMessage }),
  ...(config.idleTimeout === undefined ? {} : { idleTimeout: config.idleTimeout }),
  ...(config.writeStallTimeout === undefined
    ? {}
    : { writeStallTimeout: config.writeStallTimeout }),
  ...(config.maxWriteBuffer === undefined ? {} : { maxWriteBuffer: config.maxWriteBuffer }),
  onConnection: (transport) => {
    open.add(transport);
  },
  onConnectionLost: (transport) => {
    open.delete(transport);
  },
  onError: (error) => {
    bump(reported, errorKey(error));
    const cause = causeKey(error);
    if (cause !== undefined) bump(causes, cause);
  },
};

const server = await createServer(factory, options);
const port = (server.addresses()[0] as { port: number }).port;

let peakRss = process.memoryUsage.rss();
/** Sampling interval of the peak RSS, ms: fine enough to see a buffer build up. */
const RSS_SAMPLE_MS = 100;
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();
const sampler = setInterval(() => {
  try {
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
  } catch {
    // Reading the RSS opens /proc/self/stat: out of descriptors (scenario 7), skip a sample.
  }
}, RSS_SAMPLE_MS);

/** The summary as of now; `shutdown` is what `shutdown()` returned, if it ran. */
function summarize(shutdown: ShutdownSummary, shutdownMs: number, shutdownAt: number) {
  const { stats } = server;
  let rss = peakRss;
  try {
    rss = Math.max(peakRss, process.memoryUsage.rss());
  } catch {
    // Out of descriptors: the sampled peak will do.
  }
  const summary: FixtureSummary = {
    shutdown,
    shutdownMs,
    shutdownAt,
    stats: {
      accepted: stats.accepted,
      rejected: stats.rejected,
      closed: { ...stats.closed },
      errors: Object.fromEntries(stats.errors),
    },
    reported,
    causes,
    lost,
    made,
    lostTwice,
    stillOpen: live.size,
    conns: conns.map((record) => [record.id!, record.seqs, record.lost ?? 'none', record.lostAt]),
    peakRss: rss,
    maxBuffered,
    loopDelay: { p99: loopDelay.percentile(99) / 1e6, max: loopDelay.max / 1e6 },
  };
  return JSON.stringify(summary);
}

// SIGUSR2: a snapshot of the summary so far, for checks in the middle of a scenario.
process.on('SIGUSR2', () => {
  writeFileSync(`${config.ledgerPath}.snapshot`, summarize({ drained: 0, aborted: 0 }, 0, 0));
});

process.once('SIGTERM', () => {
  const started = performance.now();
  const shutdownAt = Date.now();
  // A shutdown still running 3 s after its drain deadline is stuck: say on stderr what is left
  // open (the harness prints stderr when it has to kill the process).
  const dump = setTimeout(
    () => {
      const lines = [`shutdown stuck: ${server.connectionCount()} connections left`];
      for (const transport of [...open].slice(0, 20)) {
        const socket = transport.getExtraInfo('socket') as Socket | undefined;
        lines.push(
          `closing=${transport.isClosing()} buffered=${transport.getWriteBufferSize()} ` +
            `socket: destroyed=${socket?.destroyed} state=${socket?.readyState} ` +
            `readableEnded=${socket?.readableEnded} writableFinished=${socket?.writableFinished} ` +
            `flowing=${socket?.readableFlowing} writableLength=${socket?.writableLength}`,
        );
      }
      process.stderr.write(`${lines.join('\n')}\n`);
    },
    (config.drainTimeout ?? 5000) + 3000,
  );
  dump.unref();
  void server.shutdown({ drainTimeout: config.drainTimeout ?? 5000 }).then((shutdown) => {
    clearInterval(sampler);
    writeFileSync(config.ledgerPath, summarize(shutdown, performance.now() - started, shutdownAt));
    process.exit(0);
  });
});

process.stdout.write(`listening ${port}\n`);
