/**
 * `createConnection` for every backend: resolves the `transport` option and hands the call to
 * that backend.
 */
import { resolveBackend } from './backend.js';
import { InvalidArgumentError } from './errors.js';
import { createNativeConnection } from './native/create-connection.js';
import { nativeLoop } from './native/loop.js';
import { createConnection as createNetConnection } from './net/create-connection.js';
import type { ConnectionOptions } from './options.js';
import type { AnyProtocol, ProtocolFactory } from './protocol.js';
import type { Transport } from './transport.js';

/**
 * Connect to a server and run `factory`'s protocol on the connection (asyncio's
 * `loop.create_connection`).
 * @throws ConnectionRefusedError when nothing listens there.
 * @throws ConnectError for any other connect failure (timeout, unreachable, not found…).
 * @throws InvalidArgumentError for bad options, or `transport: 'native'` where it is not built.
 */
export function createConnection<P extends AnyProtocol>(
  factory: ProtocolFactory<P>,
  options: ConnectionOptions,
): Promise<[Transport, P]> {
  if (typeof factory !== 'function') {
    return Promise.reject(
      new InvalidArgumentError('createConnection() needs a protocol factory function'),
    );
  }
  try {
    if (resolveBackend(options.transport, options.tls !== undefined && 'TLS') === 'net') {
      return createNetConnection(factory, options);
    }
  } catch (error) {
    return Promise.reject(error);
  }
  return createNativeConnection(nativeLoop()!, factory, options);
}
