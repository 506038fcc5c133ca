/**
 * One listening endpoint on Node's `net`: a TCP address or a Unix socket path, whose accepted
 * sockets become `SocketTransport`s registered with the server.
 */
import net from 'node:net';
import type { ConnectionRegistry } from '../connection-registry.js';
import { REPORT_INTERVAL_MS } from '../constants.js';
import { InvalidArgumentError, ListenError, ProtocolFactoryError } from '../errors.js';
import type { ProtocolFactory } from '../protocol.js';
import type { Listener } from '../server.js';
import { formatAddress, type SocketAddress } from '../transport.js';
import { type AcceptStages, runAcceptStages } from './accept-stages.js';
import { SocketTransport, type SocketTransportOptions } from './socket-transport.js';

/** Where one endpoint listens. */
export type Endpoint =
  | { readonly host: string; readonly port: number; readonly ipv6Only?: boolean }
  | { readonly path: string };

/** Settings every endpoint of a server shares. */
export interface ListenSettings {
  readonly factory: ProtocolFactory;
  readonly registry: ConnectionRegistry;
  readonly backlog: number;
  /** `SO_REUSEPORT`: share the port with other processes (`serveWorkers`). */
  readonly reusePort: boolean;
  readonly noDelay: boolean;
  readonly keepAlive: boolean;
  readonly keepAliveInitialDelay: number;
  /** Sent to connections turned away by the connection limit, before the FIN. */
  readonly rejectMessage?: Uint8Array | undefined;
  readonly transportOptions: SocketTransportOptions;
  /** PROXY header, TLS handshake: what connections go through before their protocol. */
  readonly stages?: AcceptStages | undefined;
}

/**
 * Whether this Node's `net.Server#listen` takes `reusePort` (added in 22.12.0 and 23.1.0; older
 * ones ignore the option without a word, and a second listener fails with EADDRINUSE).
 */
export function netHasReusePort(version: string = process.versions.node): boolean {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  return major > 23 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12);
}

/** Starts listening on one endpoint; rejects with a `ListenError` when the OS refuses. */
export function listen(endpoint: Endpoint, settings: ListenSettings): Promise<Listener> {
  const unix = 'path' in endpoint;
  if (settings.reusePort && !netHasReusePort()) {
    return Promise.reject(
      new InvalidArgumentError(
        `reusePort needs Node >= 22.12 with the net transport (this is ${process.version})`,
      ),
    );
  }
  const transportOptions: SocketTransportOptions = unix
    ? { ...settings.transportOptions, unix: true, localPath: endpoint.path }
    : settings.transportOptions;
  const { factory, registry, rejectMessage, stages } = settings;

  const server = net.createServer(
    {
      allowHalfOpen: true,
      noDelay: settings.noDelay,
      keepAlive: settings.keepAlive,
      keepAliveInitialDelay: settings.keepAliveInitialDelay,
    },
    (socket) => {
      if (!registry.admit()) {
        turnAway(socket, rejectMessage);
        return;
      }
      let protocol: ReturnType<typeof factory>;
      try {
        protocol = factory();
      } catch (error) {
        registry.reportOperationError(new ProtocolFactoryError(error), 'accept');
        socket.destroy();
        return;
      }
      const transport = new SocketTransport(socket, protocol, registry, transportOptions);
      registry.add(transport);
      if (stages === undefined) transport.start();
      else runAcceptStages(socket, transport, registry, stages);
    },
  );

  const wanted = unix ? endpoint.path : formatAddress(tcpAddress(endpoint.host, endpoint.port));
  return new Promise<Listener>((resolve, reject) => {
    const onListenError = (error: NodeJS.ErrnoException) => {
      reject(new ListenError(wanted, error.code ?? 'EUNKNOWN', error));
    };
    server.once('error', onListenError);
    const onListening = () => {
      server.removeListener('error', onListenError);
      let lastReport = 0;
      // After listening, errors come from accept (EMFILE, ENFILE…): report them, rate-limited,
      // and keep serving. libuv sheds connections it cannot accept, so there is no busy loop.
      server.on('error', (error: NodeJS.ErrnoException) => {
        const now = Date.now();
        if (now - lastReport < REPORT_INTERVAL_MS) return;
        lastReport = now;
        registry.reportOperationError(error, 'accept');
      });
      resolve(new NetListener(server, boundAddress(server, endpoint)));
    };
    if (unix) {
      server.listen({ path: endpoint.path, backlog: settings.backlog }, onListening);
    } else {
      server.listen(
        {
          host: endpoint.host,
          port: endpoint.port,
          backlog: settings.backlog,
          ipv6Only: endpoint.ipv6Only === true,
          // Not in Node 20's types; checked above.
          ...(settings.reusePort ? { reusePort: true } : {}),
        },
        onListening,
      );
    }
  });
}

/** Closes a connection past the limit: the goodbye, FIN, then the socket, with no reset. */
function turnAway(socket: net.Socket, goodbye: Uint8Array | undefined): void {
  socket.on('error', ignore);
  socket.once('finish', destroySocket);
  socket.resume();
  if (goodbye === undefined) socket.end();
  else socket.end(goodbye);
}

function ignore(): void {}

function destroySocket(this: net.Socket): void {
  this.destroy();
}

class NetListener implements Listener {
  readonly address: SocketAddress;
  readonly #server: net.Server;
  #closed: Promise<void> | undefined;

  constructor(server: net.Server, address: SocketAddress) {
    this.#server = server;
    this.address = address;
  }

  close(): Promise<void> {
    this.#closed ??= new Promise((resolve) => {
      // net.Server#close waits for every connection; we only want the listening socket gone,
      // which happens synchronously inside close(). Connections are the registry's business.
      this.#server.close();
      resolve();
    });
    return this.#closed;
  }
}

function boundAddress(server: net.Server, endpoint: Endpoint): SocketAddress {
  if ('path' in endpoint) return { family: 'unix', path: endpoint.path };
  const address = server.address();
  if (address === null || typeof address === 'string')
    return tcpAddress(endpoint.host, endpoint.port);
  return tcpAddress(address.address, address.port);
}

function tcpAddress(host: string, port: number): SocketAddress {
  return { family: net.isIPv6(host) ? 'IPv6' : 'IPv4', address: host, port };
}
