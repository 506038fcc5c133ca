/**
 * `aionet serve --udp`: the chapter's server over UDP. Binds every address the hosts resolve to
 * (one port for all of them, as the TCP server does), answers every datagram to its sender with
 * the reply (`DatagramMessageProtocol`), prints `Data received` per datagram unless quiet, and
 * closes on SIGINT/SIGTERM (exit 0; a second signal drops queued replies, exit 130).
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { AionetError, ListenError } from '../errors.js';
import { formatAddress } from '../transport.js';
import { createDatagramEndpoint } from '../udp/create-datagram-endpoint.js';
import type { DatagramTransport } from '../udp/datagram-transport.js';
import { DatagramMessageProtocol } from '../udp/message-protocol.js';
import { EXIT_FAILURE, EXIT_FORCED, EXIT_OK } from './usage.js';

/** What `serve --udp` needs. */
export interface UdpServeSettings {
  readonly hosts: readonly string[];
  readonly port: number;
  readonly reply: Buffer;
  /** Where `Data received` goes; `undefined` for quiet. */
  readonly print: ((line: string) => void) | undefined;
  /** Startup and shutdown lines: one JSON object per line, or text. */
  readonly json: boolean;
}

/** Serves until a signal; resolves with the exit status. */
export async function serveUdp(settings: UdpServeSettings): Promise<number> {
  const endpoints: DatagramTransport[] = [];
  try {
    let port = settings.port;
    for (const address of await resolve(settings.hosts)) {
      const [transport] = await createDatagramEndpoint(
        () =>
          new DatagramMessageProtocol({
            reply: settings.reply,
            ...(settings.print === undefined ? {} : { print: settings.print }),
          }),
        { host: address, port },
      );
      endpoints.push(transport);
      const bound = transport.getExtraInfo('sockname');
      if (port === 0 && bound !== undefined) port = bound.port;
    }
  } catch (error) {
    for (const endpoint of endpoints) endpoint.abort();
    if (!(error instanceof AionetError)) throw error;
    say(settings.json, 'startup_error', error.message, { code: error.code }, process.stderr);
    return EXIT_FAILURE;
  }
  const addresses = endpoints.map((endpoint) => formatAddress(endpoint.getExtraInfo('sockname')));
  return new Promise((resolveExit) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        for (const endpoint of endpoints) endpoint.abort();
        resolveExit(EXIT_FORCED);
        return;
      }
      stopping = true;
      say(settings.json, 'shutdown', `${signal}: closing`, { signal }, process.stderr);
      for (const endpoint of endpoints) endpoint.close();
      void Promise.all(endpoints.map((endpoint) => endpoint.waitClosed())).then(() => {
        process.removeListener('SIGINT', onSignal);
        process.removeListener('SIGTERM', onSignal);
        resolveExit(EXIT_OK);
      });
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    say(settings.json, 'startup', `Serving on ${addresses.join(', ')} (udp)`, {
      addresses,
      transport: 'udp',
    });
  });
}

/** Every address of every host, IPv4 first, none twice. */
async function resolve(hosts: readonly string[]): Promise<string[]> {
  const addresses: string[] = [];
  for (const host of hosts) {
    if (isIP(host) !== 0) {
      addresses.push(host);
      continue;
    }
    try {
      for (const { address } of await lookup(host, { all: true, verbatim: true })) {
        addresses.push(address);
      }
    } catch (error) {
      throw new ListenError(host, (error as NodeJS.ErrnoException).code ?? 'ENOTFOUND', error);
    }
  }
  const unique = [...new Set(addresses)];
  unique.sort((a, b) => isIP(a) - isIP(b));
  return unique;
}

/** One line: the text, or a JSON object with the event and its fields. */
function say(
  json: boolean,
  event: string,
  text: string,
  fields: Record<string, unknown>,
  stream: NodeJS.WriteStream = process.stdout,
): void {
  stream.write(
    json ? `${JSON.stringify({ time: Date.now(), event, ...fields, msg: text })}\n` : `${text}\n`,
  );
}
