/**
 * `createConnection` on the native engine: resolves the host, connects (trying each address of
 * a name in turn), makes the protocol, and resolves once `connectionMade` has run.
 */
import { lookup } from 'node:dns/promises';
import { isIP, isIPv6 } from 'node:net';
import { DEFAULT_MAX_WRITE_BUFFER } from '../constants.js';
import {
  ConnectError,
  ConnectionRefusedError,
  InvalidArgumentError,
  ProtocolFactoryError,
} from '../errors.js';
import { ClientOwner } from '../net/create-connection.js';
import type { ConnectionOptions } from '../options.js';
import type { AnyProtocol, ProtocolFactory } from '../protocol.js';
import { defaultErrorHook } from '../server.js';
import type { Transport } from '../transport.js';
import { OPT_KEEPALIVE, OPT_NODELAY } from './binding.js';
import { errnoName } from './errno.js';
import type { NativeLoop } from './loop.js';
import { NativeTransport } from './native-transport.js';

/**
 * Connect to a server and run `factory`'s protocol on the connection, on the native engine.
 * @throws ConnectionRefusedError when nothing listens there.
 * @throws ConnectError for any other connect failure (timeout, unreachable, not found…).
 */
export async function createNativeConnection<P extends AnyProtocol>(
  loop: NativeLoop,
  factory: ProtocolFactory<P>,
  options: ConnectionOptions,
): Promise<[Transport, P]> {
  const { path, port } = options;
  if (
    path === undefined &&
    (port === undefined || !Number.isInteger(port) || port < 1 || port > 65535)
  ) {
    throw new InvalidArgumentError('createConnection() needs a port from 1 to 65535, or a path');
  }
  let protocol: P;
  try {
    protocol = factory();
  } catch (error) {
    throw new ProtocolFactoryError(error);
  }
  const host = options.host ?? 'localhost';
  const target = path ?? (isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`);
  const deadline =
    options.connectTimeout === undefined ? undefined : Date.now() + options.connectTimeout;

  let id: number | undefined;
  if (path !== undefined) {
    id = await connectOne(loop, target, () => loop.binding.connectUnix(path), options, deadline);
  } else {
    const addresses = await resolve(host, target);
    const socketOptions =
      (options.noDelay === false ? 0 : OPT_NODELAY) | (options.keepAlive ? OPT_KEEPALIVE : 0);
    const delay = Math.floor((options.keepAliveInitialDelay ?? 0) / 1000);
    for (const [index, address] of addresses.entries()) {
      try {
        id = await connectOne(
          loop,
          target,
          () =>
            loop.binding.connect(address, port!, options.localAddress ?? '', socketOptions, delay),
          options,
          deadline,
        );
        break;
      } catch (error) {
        // The next address of the name may answer; the last failure is the one reported.
        if (index === addresses.length - 1 || options.signal?.aborted === true) throw error;
      }
    }
  }

  const owner = new ClientOwner(
    options.onError ?? defaultErrorHook,
    options.maxWriteBuffer ?? DEFAULT_MAX_WRITE_BUFFER,
  );
  const transport = new NativeTransport(loop, id!, protocol, owner, {
    unix: path !== undefined,
    ...(path === undefined ? {} : { peerPath: path }),
    ...(options.allowHalfOpen === undefined ? {} : { allowHalfOpen: options.allowHalfOpen }),
    ...(options.writeBufferLimits === undefined
      ? {}
      : { writeBufferLimits: options.writeBufferLimits }),
  });
  transport.start();
  return [transport, protocol];
}

async function resolve(host: string, target: string): Promise<string[]> {
  if (isIP(host) !== 0) return [host];
  try {
    const found = await lookup(host, { all: true, verbatim: true });
    return found.map(({ address }) => address);
  } catch (error) {
    throw new ConnectError(target, (error as NodeJS.ErrnoException).code ?? 'ENOTFOUND', error);
  }
}

/** One connect attempt; resolves with the connected socket's id. */
function connectOne(
  loop: NativeLoop,
  target: string,
  start: () => number,
  options: ConnectionOptions,
  deadline: number | undefined,
): Promise<number> {
  const { signal } = options;
  if (signal?.aborted === true) {
    return Promise.reject(new ConnectError(target, 'ABORT_ERR', signal.reason));
  }
  const id = start();
  if (id < 0) return Promise.reject(connectFailure(target, id));
  return new Promise<number>((resolve, reject) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const cleanup = () => {
      if (timer !== undefined) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      loop.removeConnecting(id);
    };
    const giveUp = (error: Error) => {
      cleanup();
      loop.binding.abort(id);
      reject(error);
    };
    const onAbort = () => giveUp(new ConnectError(target, 'ABORT_ERR', signal?.reason));
    loop.addConnecting(id, {
      engineConnected(errno: number): void {
        cleanup();
        if (errno === 0) resolve(id);
        else reject(connectFailure(target, -errno));
      },
    });
    signal?.addEventListener('abort', onAbort, { once: true });
    if (deadline !== undefined) {
      timer = setTimeout(
        () => giveUp(new ConnectError(target, 'ETIMEDOUT')),
        Math.max(0, deadline - Date.now()),
      );
    }
  });
}

function connectFailure(target: string, errno: number): Error {
  const name = errnoName(errno);
  return name === 'ECONNREFUSED'
    ? new ConnectionRefusedError(target)
    : new ConnectError(target, name);
}
