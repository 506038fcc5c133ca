/**
 * `aionet serve`: the chapter's server. Listens (localhost:7000 by default), prints the
 * chapter's lines, answers every read, and shuts down cleanly on SIGINT/SIGTERM.
 */
import { parseArgs } from 'node:util';
import { AionetError } from '../errors.js';
import { createServer } from '../net/create-server.js';
import type { Server } from '../server.js';
import { formatAddress } from '../transport.js';
import { MessageProtocol } from './chapter-protocol.js';
import {
  asUsageError,
  EXIT_FAILURE,
  EXIT_FORCED,
  EXIT_OK,
  parsePort,
  UsageError,
} from './usage.js';

export const SERVE_USAGE = `Usage: aionet serve [options]

Runs the chapter's server: prints "Got a new connection" for each connection and
"Data received" for each read, and answers every read with "Message received".

Options:
  --host HOST      address or name to listen on; repeatable (default: localhost,
                   which binds 127.0.0.1 and ::1 where present)
  --port PORT      TCP port, 0 for any free one (default: 7000)
  --path SOCK      listen on a Unix domain socket instead of TCP
  --reply TEXT     the reply to every read (default: "Message received")
  --quiet          do not print the per-connection and per-read lines
  -h, --help       show this help

Ctrl-C (SIGINT) or SIGTERM stops accepting, closes every connection and exits 0;
a second signal during shutdown aborts at once (exit 130).`;

/** Milliseconds a graceful shutdown may take before connections are reset. */
const SHUTDOWN_GRACE_MS = 1500;

export async function serveCommand(argv: string[]): Promise<number> {
  let values: {
    host?: string[];
    port?: string;
    path?: string;
    reply?: string;
    quiet?: boolean;
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
        quiet: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
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
  const quiet = values.quiet === true;
  const print = quiet ? undefined : (line: string) => process.stdout.write(`${line}\n`);

  let server: Server;
  try {
    server = await createServer(() => new MessageProtocol(reply, print), {
      ...(values.path !== undefined
        ? { path: values.path }
        : { host: values.host ?? 'localhost', port }),
      onError: (error, context) => {
        const peer = context.transport?.getExtraInfo('peername');
        const where = peer !== undefined ? ` (peer ${formatAddress(peer)})` : '';
        const code = error instanceof AionetError ? `${error.code}: ` : '';
        process.stderr.write(`error${where}: ${code}${error.message}\n`);
      },
    });
  } catch (error) {
    if (error instanceof AionetError) {
      process.stderr.write(`${error.message}\n`);
      return EXIT_FAILURE;
    }
    throw error;
  }
  process.stdout.write(`Serving on ${server.addresses().map(formatAddress).join(', ')}\n`);
  return await untilSignal(server);
}

/** Serves until SIGINT/SIGTERM, then shuts down; a second signal aborts at once. */
function untilSignal(server: Server): Promise<number> {
  return new Promise((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        server.abortClients();
        resolve(EXIT_FORCED);
        return;
      }
      stopping = true;
      process.stderr.write(`${signal}: closing the server\n`);
      server.close();
      server.closeClients();
      const grace = setTimeout(() => server.abortClients(), SHUTDOWN_GRACE_MS);
      void server.waitClosed().then(() => {
        clearTimeout(grace);
        process.removeListener('SIGINT', onSignal);
        process.removeListener('SIGTERM', onSignal);
        resolve(EXIT_OK);
      });
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}
