/**
 * `createDatagramEndpoint` on `node:dgram` (asyncio's `loop.create_datagram_endpoint`): resolves
 * the addresses, binds, connects when a `remote` is given, and starts the protocol.
 */
import dgram from 'node:dgram';
import { lookup } from 'node:dns/promises';
import net from 'node:net';
import {
  ConnectError,
  InvalidArgumentError,
  ListenError,
  ProtocolFactoryError,
} from '../errors.js';
import { formatAddress } from '../transport.js';
import { MAX_DATAGRAM_SIZE_IPV4, MAX_DATAGRAM_SIZE_IPV6 } from './constants.js';
import type { DatagramProtocolCallbacks, DatagramProtocolFactory } from './datagram-protocol.js';
import type { DatagramAddress, DatagramTransport } from './datagram-transport.js';
import { NetDatagramTransport } from './net-datagram-transport.js';
import type { DatagramEndpointOptions, DatagramErrorHook } from './options.js';

/** The hook used when the caller gives none: one line on stderr. */
export const defaultDatagramErrorHook: DatagramErrorHook = (error, context) => {
  console.error(`aionet: udp ${context.operation}: ${error.message}`);
};

/**
 * Open a UDP endpoint and run `factory`'s protocol on it. Resolves once the socket is bound (and
 * connected, with `remote`) and `connectionMade` has run.
 * @throws InvalidArgumentError for bad options, or `host` and `remote` of different families.
 * @throws ProtocolFactoryError when `factory` throws.
 * @throws ListenError when the local address cannot be bound (in use, not found…) or `signal`
 * aborted first.
 * @throws ConnectError when `remote` cannot be resolved or connected to.
 */
export async function createDatagramEndpoint<P extends DatagramProtocolCallbacks>(
  factory: DatagramProtocolFactory<P>,
  options: DatagramEndpointOptions = {},
): Promise<[DatagramTransport, P]> {
  if (typeof factory !== 'function') {
    throw new InvalidArgumentError('createDatagramEndpoint() needs a protocol factory function');
  }
  validate(options);
  let protocol: P;
  try {
    protocol = factory();
  } catch (error) {
    throw new ProtocolFactoryError(error);
  }
  const { remote, signal } = options;

  const local = options.host === undefined ? undefined : await resolveLocal(options.host);
  const remoteAddress =
    remote === undefined ? undefined : await resolveRemote(remote.host, remote.port, local?.family);
  const family = local?.family ?? remoteAddress?.family ?? 4;
  if (local !== undefined && remoteAddress !== undefined && remoteAddress.family !== family) {
    throw new InvalidArgumentError(
      `host ${options.host} and remote ${remote!.host} are of different address families`,
    );
  }
  const bindAddress = local?.address ?? (family === 6 ? '::' : '0.0.0.0');
  const port = options.port ?? 0;
  const wanted = formatAddress({
    family: family === 6 ? 'IPv6' : 'IPv4',
    address: bindAddress,
    port,
  });

  const socket = dgram.createSocket({
    type: family === 6 ? 'udp6' : 'udp4',
    reuseAddr: options.reuseAddr ?? false,
  });
  await step(
    socket,
    signal,
    (done) => socket.bind({ port, address: bindAddress }, done),
    (error) => new ListenError(wanted, errnoOf(error), error),
  );
  let peer: DatagramAddress | undefined;
  if (remoteAddress !== undefined) {
    const target = formatAddress({
      family: remoteAddress.family === 6 ? 'IPv6' : 'IPv4',
      address: remoteAddress.address,
      port: remote!.port,
    });
    await step(
      socket,
      signal,
      (done) => socket.connect(remote!.port, remoteAddress.address, done),
      (error) => new ConnectError(target, errnoOf(error), error),
    );
    peer = remoteOf(socket);
  }
  if (options.broadcast === true) socket.setBroadcast(true);

  const transport = new NetDatagramTransport(socket, protocol, {
    maxDatagramSize: family === 6 ? MAX_DATAGRAM_SIZE_IPV6 : MAX_DATAGRAM_SIZE_IPV4,
    remote: peer,
    ...(remote === undefined ? {} : { remoteHost: remote.host }),
    onError: options.onError ?? defaultDatagramErrorHook,
  });
  if (signal !== undefined) {
    const onAbort = () => transport.close();
    signal.addEventListener('abort', onAbort, { once: true });
    socket.once('close', () => signal.removeEventListener('abort', onAbort));
  }
  transport.start();
  return [transport, protocol];
}

/**
 * Runs one asynchronous socket operation (bind, connect); on an error or an abort of `signal`,
 * closes the socket and rejects with `fail(error)`.
 */
function step(
  socket: dgram.Socket,
  signal: AbortSignal | undefined,
  start: (done: () => void) => void,
  fail: (error: Error) => Error,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      socket.removeListener('error', onError);
      signal?.removeEventListener('abort', onAbort);
    };
    const onError = (error: Error) => {
      cleanup();
      closeQuietly(socket);
      reject(fail(error));
    };
    const onAbort = () => {
      cleanup();
      closeQuietly(socket);
      reject(
        fail(Object.assign(new Error('aborted'), { code: 'ABORT_ERR', cause: signal?.reason })),
      );
    };
    if (signal?.aborted === true) {
      onAbort();
      return;
    }
    socket.once('error', onError);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      start(() => {
        cleanup();
        resolve();
      });
    } catch (error) {
      onError(error as Error);
    }
  });
}

async function resolveLocal(host: string): Promise<{ address: string; family: 4 | 6 }> {
  const family = net.isIP(host);
  if (family !== 0) return { address: host, family: family as 4 | 6 };
  try {
    const found = await lookup(host, { verbatim: true });
    return { address: found.address, family: found.family === 6 ? 6 : 4 };
  } catch (error) {
    throw new ListenError(host, errnoOf(error as Error), error);
  }
}

async function resolveRemote(
  host: string,
  port: number,
  family: 4 | 6 | undefined,
): Promise<{ address: string; family: 4 | 6 }> {
  const literal = net.isIP(host);
  if (literal !== 0) return { address: host, family: literal as 4 | 6 };
  try {
    const found = await lookup(host, {
      verbatim: true,
      ...(family === undefined ? {} : { family }),
    });
    return { address: found.address, family: found.family === 6 ? 6 : 4 };
  } catch (error) {
    throw new ConnectError(`${host}:${port}`, errnoOf(error as Error), error);
  }
}

function remoteOf(socket: dgram.Socket): DatagramAddress | undefined {
  try {
    const { address, family, port } = socket.remoteAddress();
    return { family: family === 'IPv6' ? 'IPv6' : 'IPv4', address, port };
  } catch {
    return undefined; // not connected after all (closed under us)
  }
}

function closeQuietly(socket: dgram.Socket): void {
  try {
    socket.close();
  } catch {
    // Never bound, or closed already: nothing to release.
  }
}

function errnoOf(error: Error): string {
  return (error as NodeJS.ErrnoException).code ?? 'EUNKNOWN';
}

function validate(options: DatagramEndpointOptions): void {
  const { host, port, remote } = options;
  if (host !== undefined && (typeof host !== 'string' || host.length === 0)) {
    throw new InvalidArgumentError('host must be a non-empty string');
  }
  if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port <= 65535)) {
    throw new InvalidArgumentError(`port must be an integer from 0 to 65535, got ${port}`);
  }
  if (remote !== undefined) {
    if (
      remote === null ||
      typeof remote !== 'object' ||
      typeof remote.host !== 'string' ||
      remote.host.length === 0
    ) {
      throw new InvalidArgumentError('remote must be { host, port } with a non-empty host');
    }
    if (!(Number.isInteger(remote.port) && remote.port >= 1 && remote.port <= 65535)) {
      throw new InvalidArgumentError(
        `remote port must be an integer from 1 to 65535, got ${remote.port}`,
      );
    }
  }
}
