/**
 * `createServer` for every backend: resolves the `transport` option and hands the call to the
 * shared server setup with that backend's way of listening.
 */
import { resolveBackend } from './backend.js';
import { InvalidArgumentError } from './errors.js';
import { listenNative } from './native/listener.js';
import { nativeLoop } from './native/loop.js';
import { createServer as createNetServer } from './net/create-server.js';
import type { ServerOptions } from './options.js';
import type { ProtocolFactory } from './protocol.js';
import type { Server } from './server.js';

/**
 * Listen for connections and make one protocol per connection with `factory`
 * (asyncio's `loop.create_server`). Resolves once every address listens.
 * @throws ListenError when an address cannot be listened on (in use, permission denied…).
 * @throws InvalidArgumentError for bad options, or `transport: 'native'` where it is not built.
 */
export async function createServer(
  factory: ProtocolFactory,
  options: ServerOptions = {},
): Promise<Server> {
  if (typeof factory !== 'function') {
    throw new InvalidArgumentError('createServer() needs a protocol factory function');
  }
  if (resolveBackend(options.transport, netOnlyFeature(options)) === 'net') {
    return createNetServer(factory, options);
  }
  const loop = nativeLoop()!;
  return createNetServer(factory, options, (endpoint, settings) =>
    listenNative(loop, endpoint, settings),
  );
}

/** The option that needs the `net` backend, if any (the native engine has no TLS or PROXY stage). */
function netOnlyFeature(options: ServerOptions): string | false {
  if (options.tls !== undefined) return 'TLS';
  if (options.proxyProtocol !== undefined) return 'the PROXY protocol';
  return false;
}
