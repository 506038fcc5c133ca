/**
 * `aionet client`: a small interactive client, like `nc`. Sends each line of standard input,
 * prints whatever comes back, and exits when input ends or the server closes.
 */
import { Buffer } from 'node:buffer';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { AionetError } from '../errors.js';
import { createConnection } from '../net/create-connection.js';
import { Protocol } from '../protocol.js';
import type { TlsClientOptions } from '../tls/options.js';
import type { Transport } from '../transport.js';
import {
  asUsageError,
  EXIT_FAILURE,
  EXIT_OK,
  parsePort,
  parseSeconds,
  UsageError,
} from './usage.js';

export const CLIENT_USAGE = `Usage: aionet client [options]

Connects, sends each line of standard input (with its newline), and prints what the
server sends back. Exits 0 when input ends (after waiting for the last replies) or
when the server closes the connection; 1 when it cannot connect.

Options:
  --host HOST      server address or name (default: localhost)
  --port PORT      server port (default: 7000)
  --path SOCK      connect to a Unix domain socket instead
  --linger SECONDS after input ends, wait this long for replies (default: 2)
  --tls            speak TLS; the server's certificate must verify against the
                   system's CAs, or --tls-ca
  --tls-ca FILE    CA certificates (PEM) to verify the server's certificate with
  --tls-insecure   do not verify the server's certificate (self-signed test
                   servers only)
  --tls-servername NAME
                   the name to send (SNI) and check the certificate against
                   (default: --host, unless it is an IP address)
  -h, --help       show this help`;

/** Prints what arrives; resolves `lost` when the connection ends. */
class PrintingProtocol extends Protocol {
  readonly lost: Promise<Error | undefined>;
  #resolveLost: (error: Error | undefined) => void = () => {};

  constructor() {
    super();
    this.lost = new Promise((resolve) => {
      this.#resolveLost = resolve;
    });
  }

  override dataReceived(data: Buffer): void {
    process.stdout.write(data);
  }

  override eofReceived(): boolean {
    // The server is done sending; keep our side open only if input is still coming.
    return true;
  }

  override connectionLost(error?: Error): void {
    this.#resolveLost(error);
  }
}

export async function clientCommand(argv: string[]): Promise<number> {
  let values: {
    host?: string;
    port?: string;
    path?: string;
    linger?: string;
    tls?: boolean;
    'tls-ca'?: string;
    'tls-insecure'?: boolean;
    'tls-servername'?: string;
    help?: boolean;
  };
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        host: { type: 'string' },
        port: { type: 'string' },
        path: { type: 'string' },
        linger: { type: 'string' },
        tls: { type: 'boolean' },
        'tls-ca': { type: 'string' },
        'tls-insecure': { type: 'boolean' },
        'tls-servername': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    asUsageError(error);
  }
  if (values.help === true) {
    console.log(CLIENT_USAGE);
    return EXIT_OK;
  }
  if (values.path !== undefined && (values.host !== undefined || values.port !== undefined)) {
    throw new UsageError('give either --path, or --host/--port, not both');
  }
  const port = parsePort(values.port, 7000, false);
  const lingerMs = parseSeconds('--linger', values.linger, 2) * 1000;
  const tls = tlsOptions(values);

  let transport: Transport;
  let protocol: PrintingProtocol;
  try {
    [transport, protocol] = await createConnection(() => new PrintingProtocol(), {
      ...(values.path !== undefined
        ? { path: values.path }
        : { host: values.host ?? 'localhost', port }),
      ...(tls === undefined ? {} : { tls }),
    });
  } catch (error) {
    if (error instanceof AionetError) {
      process.stderr.write(`${error.message}\n`);
      return EXIT_FAILURE;
    }
    throw error;
  }

  const input = createInterface({ input: process.stdin, crlfDelay: Number.POSITIVE_INFINITY });
  const newline = Buffer.from('\n');
  input.on('line', (line) => {
    if (!transport.isClosing()) transport.writeLines([Buffer.from(line, 'utf8'), newline]);
  });
  const inputEnded = new Promise<void>((resolve) => input.once('close', resolve));

  const outcome = await Promise.race([
    protocol.lost.then((error) => ({ lost: true as const, error })),
    inputEnded.then(() => ({ lost: false as const, error: undefined })),
  ]);
  if (!outcome.lost) {
    transport.writeEof();
    const timer = setTimeout(() => transport.close(), lingerMs);
    const error = await protocol.lost;
    clearTimeout(timer);
    return report(error);
  }
  input.close();
  return report(outcome.error);
}

function report(error: Error | undefined): number {
  if (error === undefined) return EXIT_OK;
  process.stderr.write(`connection lost: ${error.message}\n`);
  return EXIT_FAILURE;
}

/** The TLS flags as client options; `undefined` without `--tls`. */
function tlsOptions(values: {
  tls?: boolean;
  'tls-ca'?: string;
  'tls-insecure'?: boolean;
  'tls-servername'?: string;
}): TlsClientOptions | undefined {
  const ca = values['tls-ca'];
  const insecure = values['tls-insecure'] === true;
  const servername = values['tls-servername'];
  if (values.tls !== true) {
    if (ca !== undefined || insecure || servername !== undefined) {
      throw new UsageError('--tls-ca, --tls-insecure and --tls-servername need --tls');
    }
    return undefined;
  }
  if (ca !== undefined && insecure) {
    throw new UsageError('give either --tls-ca or --tls-insecure, not both');
  }
  let caText: Buffer | undefined;
  if (ca !== undefined) {
    try {
      caText = readFileSync(ca);
    } catch (error) {
      throw new UsageError(
        `--tls-ca ${ca}: cannot read it (${(error as NodeJS.ErrnoException).code})`,
      );
    }
  }
  return {
    ...(caText === undefined ? {} : { ca: caText }),
    ...(insecure ? { rejectUnauthorized: false } : {}),
    ...(servername === undefined ? {} : { servername }),
  };
}
