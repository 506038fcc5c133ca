/**
 * `createServer` on Node's `net`: resolves the hosts, listens on every address (one port for
 * all of them when the port is 0), and returns a `Server`.
 */
import { Buffer } from 'node:buffer';
import { lookup } from 'node:dns/promises';
import net from 'node:net';
import { ConnectionRegistry } from '../connection-registry.js';
import { DEFAULT_BACKLOG, DEFAULT_MAX_WRITE_BUFFER } from '../constants.js';
import { InvalidArgumentError, ListenError } from '../errors.js';
import type { ServerOptions } from '../options.js';
import type { ProtocolFactory } from '../protocol.js';
import { defaultErrorHook, type Listener, Server } from '../server.js';
import { TlsSettingsSource } from '../tls/context.js';
import type { AcceptStages } from './accept-stages.js';
import { type Endpoint, type ListenSettings, listen } from './listener.js';
import { proxyStageSettings } from './proxy-stage.js';
import { removeStaleSocket, setSocketMode } from './unix-socket-file.js';

/** The addresses asyncio binds when no host is given: every interface, IPv4 and IPv6. */
const ALL_INTERFACES = ['0.0.0.0', '::'] as const;

/** System errors that mean "this machine has no such address family": skip, as asyncio does. */
const NO_SUCH_FAMILY = new Set(['EAFNOSUPPORT', 'EADDRNOTAVAIL']);

/** Starts listening on one endpoint: `net`'s by default, another backend's when given. */
export type ListenFunction = (endpoint: Endpoint, settings: ListenSettings) => Promise<Listener>;

/**
 * Listen for connections and make one protocol per connection with `factory`
 * (asyncio's `loop.create_server`). Resolves once every address listens.
 * @param listenOn the backend's listen; everything else (addresses, registry, server) is shared.
 * @throws ListenError when an address cannot be listened on (in use, permission denied…).
 * @throws InvalidArgumentError for bad options.
 */
export async function createServer(
  factory: ProtocolFactory,
  options: ServerOptions = {},
  listenOn: ListenFunction = listen,
): Promise<Server> {
  if (typeof factory !== 'function') {
    throw new InvalidArgumentError('createServer() needs a protocol factory function');
  }
  validateServerOptions(options);
  const tls = options.tls === undefined ? undefined : new TlsSettingsSource(options.tls);
  const stages: AcceptStages | undefined =
    tls === undefined && options.proxyProtocol === undefined
      ? undefined
      : {
          tls,
          proxy:
            options.proxyProtocol === undefined
              ? undefined
              : proxyStageSettings(options.proxyProtocol),
        };
  const registry = new ConnectionRegistry({
    onError: options.onError ?? defaultErrorHook,
    limits: {
      maxWriteBuffer: options.maxWriteBuffer ?? DEFAULT_MAX_WRITE_BUFFER,
      idleTimeout: options.idleTimeout ?? 0,
      writeStallTimeout: options.writeStallTimeout ?? 0,
    },
    ...(options.maxConnections === undefined ? {} : { maxConnections: options.maxConnections }),
    ...(options.clock === undefined ? {} : { clock: options.clock }),
    onConnection: options.onConnection,
    onConnectionLost: options.onConnectionLost,
  });
  const settings = {
    factory,
    registry,
    backlog: options.backlog ?? DEFAULT_BACKLOG,
    reusePort: options.reusePort === true,
    noDelay: options.noDelay ?? true,
    keepAlive: options.keepAlive ?? false,
    keepAliveInitialDelay: options.keepAliveInitialDelay ?? 0,
    rejectMessage:
      typeof options.rejectMessage === 'string'
        ? Buffer.from(options.rejectMessage, 'utf8')
        : options.rejectMessage,
    transportOptions: {
      ...(options.allowHalfOpen === undefined ? {} : { allowHalfOpen: options.allowHalfOpen }),
      ...(options.writeBufferLimits === undefined
        ? {}
        : { writeBufferLimits: options.writeBufferLimits }),
    },
    stages,
  };

  const listeners: Listener[] = [];
  try {
    if (options.path !== undefined) {
      await removeStaleSocket(options.path);
      listeners.push(await listenOn({ path: options.path }, settings));
      if (options.mode !== undefined) await setSocketMode(options.path, options.mode);
    } else {
      const { addresses, optionalFamilies } = await resolveHosts(options.host);
      let port = options.port ?? 0;
      for (const address of addresses) {
        const endpoint: Endpoint = { host: address, port, ipv6Only: net.isIPv6(address) };
        try {
          const listener = await listenOn(endpoint, settings);
          listeners.push(listener);
          // Port 0: every further address takes the port the first one got.
          if (port === 0 && listener.address.family !== 'unix') port = listener.address.port;
        } catch (error) {
          if (
            optionalFamilies &&
            net.isIPv6(address) &&
            error instanceof ListenError &&
            NO_SUCH_FAMILY.has(error.errno)
          ) {
            continue;
          }
          throw error;
        }
      }
    }
  } catch (error) {
    await Promise.all(listeners.map((listener) => listener.close()));
    throw error;
  }
  return new Server(listeners, registry, {
    signal: options.signal,
    clock: options.clock,
    reloadTls: tls === undefined ? undefined : (next) => tls.reload(next),
  });
}

async function resolveHosts(
  host: string | readonly string[] | undefined,
): Promise<{ addresses: string[]; optionalFamilies: boolean }> {
  if (host === undefined) return { addresses: [...ALL_INTERFACES], optionalFamilies: true };
  const hosts = typeof host === 'string' ? [host] : host;
  const addresses: string[] = [];
  let resolvedNames = false;
  for (const name of hosts) {
    if (net.isIP(name) !== 0) {
      addresses.push(name);
      continue;
    }
    resolvedNames = true;
    let found: { address: string }[];
    try {
      found = await lookup(name, { all: true, verbatim: true });
    } catch (error) {
      throw new ListenError(name, (error as NodeJS.ErrnoException).code ?? 'ENOTFOUND', error);
    }
    for (const { address } of found) addresses.push(address);
  }
  // IPv4 first, like the startup line users expect; no address twice.
  const unique = [...new Set(addresses)];
  unique.sort((a, b) => net.isIP(a) - net.isIP(b));
  return { addresses: unique, optionalFamilies: resolvedNames };
}

function validateServerOptions(options: ServerOptions): void {
  const { port, path, host, backlog } = options;
  if (path !== undefined) {
    if (typeof path !== 'string' || path.length === 0) {
      throw new InvalidArgumentError('path must be a non-empty string');
    }
    if (port !== undefined || host !== undefined) {
      throw new InvalidArgumentError('give either path, or host and port, not both');
    }
  }
  const { mode } = options;
  if (mode !== undefined) {
    if (path === undefined) throw new InvalidArgumentError('mode needs path (a Unix socket)');
    if (!(Number.isInteger(mode) && mode >= 0 && mode <= 0o777)) {
      throw new InvalidArgumentError(`mode must be permission bits from 0 to 0o777, got ${mode}`);
    }
  }
  if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port <= 65535)) {
    throw new InvalidArgumentError(`port must be an integer from 0 to 65535, got ${port}`);
  }
  if (backlog !== undefined && !(Number.isInteger(backlog) && backlog > 0)) {
    throw new InvalidArgumentError(`backlog must be a positive integer, got ${backlog}`);
  }
  if (Array.isArray(host) && host.length === 0) {
    throw new InvalidArgumentError('host must name at least one address');
  }
  const { maxConnections, idleTimeout, writeStallTimeout, maxWriteBuffer } = options;
  if (maxConnections !== undefined && !(maxConnections >= 1)) {
    throw new InvalidArgumentError(`maxConnections must be >= 1, got ${maxConnections}`);
  }
  for (const [name, value] of [
    ['idleTimeout', idleTimeout],
    ['writeStallTimeout', writeStallTimeout],
  ] as const) {
    if (value !== undefined && !(Number.isFinite(value) && value >= 0)) {
      throw new InvalidArgumentError(`${name} must be a number of ms >= 0, got ${value}`);
    }
  }
  if (maxWriteBuffer !== undefined && !(maxWriteBuffer > 0)) {
    throw new InvalidArgumentError(`maxWriteBuffer must be > 0 bytes, got ${maxWriteBuffer}`);
  }
}
