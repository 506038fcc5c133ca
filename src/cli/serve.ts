/**
 * `aionet serve`: the chapter's server. Listens (localhost:7000 by default), prints the
 * chapter's lines, answers every read, and shuts down cleanly on SIGINT/SIGTERM. Limits, logs
 * and metrics come from the operations flags (`operations-flags.ts`).
 */
import { Buffer } from 'node:buffer';
import { parseArgs } from 'node:util';
import { type Backend, resolveBackend } from '../backend.js';
import { LengthPrefixedCodec } from '../codecs/length-prefixed-codec.js';
import { LineCodec } from '../codecs/line-codec.js';
import { createServer } from '../create-server.js';
import { AionetError } from '../errors.js';
import { createMetrics } from '../metrics/create-metrics.js';
import { type MetricsEndpoint, serveMetrics } from '../metrics/serve-metrics.js';
import type { ServerOptions } from '../options.js';
import type { ProtocolFactory } from '../protocol.js';
import type { Server } from '../server.js';
import { formatAddress } from '../transport.js';
import { serveWorkersCommand } from '../workers/cli.js';
import { serveAsWorker, workerIdentity, workerServerOptions } from '../workers/worker-runtime.js';
import { FramedMessageProtocol, type LineSink, MessageProtocol } from './chapter-protocol.js';
import { ConnectionLog } from './connection-log.js';
import { limitsWarning, readFdBudget } from './limits-report.js';
import { CliLogger } from './logger.js';
import {
  OPERATIONS_OPTIONS,
  OPERATIONS_USAGE,
  type OperationsValues,
  parseOperations,
} from './operations-flags.js';
import {
  parseServeTransport,
  readTls,
  reloadTlsOnSighup,
  SERVE_TRANSPORT_OPTIONS,
  SERVE_TRANSPORT_USAGE,
  type ServeTransportValues,
} from './serve-transport-flags.js';
import { serveUdp } from './serve-udp.js';
import { untilSignal } from './shutdown.js';
import { asUsageError, EXIT_FAILURE, EXIT_OK, parseCount, parsePort, UsageError } from './usage.js';

export const SERVE_USAGE = `Usage: aionet serve [options]

Runs the chapter's server: prints "Got a new connection" for each connection and
"Data received" for each read, and answers every read with "Message received".

Options:
  --host HOST      address or name to listen on; repeatable (default: localhost,
                   which binds 127.0.0.1 and ::1 where present)
  --port PORT      TCP port, 0 for any free one (default: 7000)
  --path SOCK      listen on a Unix domain socket instead of TCP
  --reply TEXT     the reply to every read (default: "Message received")
  --framing MODE   none: answer every read (the chapter); line: answer every
                   newline-terminated line with the reply and a newline;
                   length: answer every
                   4-byte big-endian length-prefixed frame with a framed reply
                   (default: none)
  --max-frame N    largest frame in bytes with --framing line|length; a larger
                   one closes that connection (default: 65536 for line,
                   1048576 for length)
  --transport MODE auto: the native transport where it is built, else net;
                   native: the native transport (an error where it is not
                   built); net: Node's own sockets (default: auto)
  --quiet          do not print the per-connection and per-read lines
  --workers N|auto run N worker processes (auto: one per CPU) on the same
                   address, supervised; SIGHUP restarts them one by one
                   (see docs/workers.md)
  -h, --help       show this help

${SERVE_TRANSPORT_USAGE}

${OPERATIONS_USAGE}

Ctrl-C (SIGINT) or SIGTERM stops accepting, closes idle connections, lets busy
ones finish for up to --drain-timeout, prints "Shut down: N drained, M aborted"
and exits 0; a second signal during shutdown aborts at once (exit 130).`;

export async function serveCommand(argv: string[]): Promise<number> {
  let values: OperationsValues &
    ServeTransportValues & {
      host?: string[];
      port?: string;
      path?: string;
      reply?: string;
      framing?: string;
      'max-frame'?: string;
      transport?: string;
      quiet?: boolean;
      workers?: string;
      help?: boolean;
    };
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        host: { type: 'string', multiple: true },
        port: { type: 'string' },
        path: { type: 'string' },
        reply: { type: 'string' },
        framing: { type: 'string' },
        'max-frame': { type: 'string' },
        transport: { type: 'string' },
        quiet: { type: 'boolean' },
        workers: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        ...OPERATIONS_OPTIONS,
        ...SERVE_TRANSPORT_OPTIONS,
      },
    }));
  } catch (error) {
    asUsageError(error);
  }
  if (values.help === true) {
    console.log(SERVE_USAGE);
    return EXIT_OK;
  }
  const port = parsePort(values.port, 7000);
  if (values.path !== undefined && (values.host !== undefined || values.port !== undefined)) {
    throw new UsageError('give either --path, or --host/--port, not both');
  }
  const reply = Buffer.from(values.reply ?? 'Message received', 'utf8');
  const operations = parseOperations(values);
  const transportFlags = parseServeTransport(values, { path: values.path !== undefined });
  if (transportFlags.udp && values.workers !== undefined) {
    throw new UsageError('--udp does not go with --workers');
  }
  const worker = workerIdentity();
  if (values.workers !== undefined && worker === undefined) {
    return await serveWorkersCommand(argv, {
      workers: values.workers,
      transport: values.transport,
      unixPath: values.path !== undefined,
      port,
      host: values.host?.[0],
      metricsPort: operations.metrics?.port,
      metricsHost: operations.metrics?.host,
      drainTimeoutMs: operations.drainTimeout,
    });
  }
  const logger = new CliLogger({
    format: operations.logFormat,
    level: operations.logLevel,
    quiet: values.quiet === true,
  });
  const connectionLog = new ConnectionLog(logger);
  const print = logger.chapterSink();
  if (transportFlags.udp) {
    return await serveUdp({
      hosts: values.host ?? ['localhost'],
      port,
      reply,
      print,
      json: operations.logFormat === 'json',
    });
  }

  const factory = protocolFactory(values.framing ?? 'none', values['max-frame'], reply, print);
  // Left undefined when not given: `auto` by default, told about only when asked for.
  const transport = values.transport;
  if (
    transport !== undefined &&
    transport !== 'auto' &&
    transport !== 'native' &&
    transport !== 'net'
  ) {
    throw new UsageError(`--transport must be auto, native or net, got '${transport}'`);
  }

  let server: Server;
  let backend: Backend;
  try {
    // TLS and the PROXY protocol run on net: `auto` picks it for them.
    backend = resolveBackend(
      transport,
      transportFlags.tlsFiles !== undefined
        ? 'TLS'
        : transportFlags.proxyProtocol !== undefined && 'the PROXY protocol',
    );
    server = await createServer(factory, {
      transport: backend,
      ...(values.path !== undefined
        ? {
            path: values.path,
            ...(transportFlags.pathMode === undefined ? {} : { mode: transportFlags.pathMode }),
          }
        : { host: values.host ?? 'localhost', port }),
      ...(transportFlags.tlsFiles === undefined ? {} : { tls: readTls(transportFlags)! }),
      ...(transportFlags.proxyProtocol === undefined
        ? {}
        : { proxyProtocol: transportFlags.proxyProtocol }),
      ...operations.serverOptions,
      ...workerServerOptions(worker),
      onError: connectionLog.onError,
      ...connectionHooks(connectionLog),
    });
  } catch (error) {
    if (error instanceof AionetError) {
      logger.startupError(error.code, error.message);
      return EXIT_FAILURE;
    }
    throw error;
  }
  if (worker !== undefined) {
    return await serveAsWorker(server, { backend, drainTimeout: operations.drainTimeout });
  }
  // Signal handlers first: whoever reads the startup line may signal at once.
  let metrics: MetricsEndpoint | undefined;
  // A reload that fails keeps the old certificate and says why; one that works is silent.
  const stopReloading = reloadTlsOnSighup(server, transportFlags, (error) => {
    if (error !== undefined) {
      logger.acceptError('tls-reload', codeOf(error), `SIGHUP: ${error.message}`);
    }
  });
  const stopped = untilSignal(server, {
    drainTimeout: operations.drainTimeout,
    logger,
    afterDrain: async () => {
      stopReloading();
      await metrics?.close();
    },
  });
  if (operations.metrics !== undefined) {
    try {
      metrics = await serveMetrics({
        ...operations.metrics,
        registry: createMetrics(server),
        isDraining: () => server.isDraining(),
      });
    } catch (error) {
      if (!(error instanceof AionetError)) throw error;
      logger.startupError(error.code, `metrics: ${error.message}`);
      server.close();
      server.abortClients();
      return EXIT_FAILURE;
    }
  }
  const limits = { ...server.limits, drainTimeout: operations.drainTimeout, fds: readFdBudget() };
  logger.startup({
    addresses: server.addresses().map(formatAddress),
    transport: backend,
    limits,
    metricsUrl: metrics?.url,
  });
  const warning = limitsWarning(limits);
  if (warning !== undefined) logger.limitsWarning(warning);
  return await stopped;
}

/** The chapter's protocol for the chosen framing. */
function protocolFactory(
  framing: string,
  maxFrameText: string | undefined,
  reply: Buffer,
  print: LineSink,
): ProtocolFactory {
  if (framing !== 'none' && framing !== 'line' && framing !== 'length') {
    throw new UsageError(`--framing must be none, line or length, got '${framing}'`);
  }
  if (framing === 'none') {
    if (maxFrameText !== undefined) throw new UsageError('--max-frame needs --framing line|length');
    return () => new MessageProtocol(reply, print);
  }
  const maxLength =
    maxFrameText === undefined ? undefined : parseCount('--max-frame', maxFrameText);
  const options = maxLength === undefined ? {} : { maxLength };
  if (framing === 'line') {
    const encoded = new LineCodec().encode(reply);
    return () => new FramedMessageProtocol(new LineCodec(options), encoded, print);
  }
  const encoded = new LengthPrefixedCodec().encode(reply);
  return () => new FramedMessageProtocol(new LengthPrefixedCodec(options), encoded, print);
}

function codeOf(error: Error): string {
  return error instanceof AionetError ? error.code : 'EUNKNOWN';
}

/** The connection log's hooks, leaving out those it does not need at this log level. */
function connectionHooks(
  log: ConnectionLog,
): Pick<ServerOptions, 'onConnection' | 'onConnectionLost'> {
  const { onConnection, onConnectionLost } = log;
  return {
    ...(onConnection === undefined ? {} : { onConnection }),
    ...(onConnectionLost === undefined ? {} : { onConnectionLost }),
  };
}
