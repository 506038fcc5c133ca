/**
 * aionet's public names. No logic lives here.
 */
export * from './constants.js';
export * from './errors.js';
export { createConnection } from './net/create-connection.js';
export { createServer } from './net/create-server.js';
export type { ConnectionOptions, ServerOptions, SocketOptions } from './options.js';
export {
  type AnyProtocol,
  type BaseProtocolCallbacks,
  BufferedProtocol,
  type BufferedProtocolCallbacks,
  type CallbackResult,
  isBufferedProtocol,
  Protocol,
  type ProtocolCallbacks,
  type ProtocolFactory,
} from './protocol.js';
export { type ErrorContext, type ErrorHook, type Listener, Server } from './server.js';
export {
  StreamTransport,
  type StreamTransportOptions,
  type TransportOwner,
} from './stream-transport.js';
export {
  type ExtraInfo,
  formatAddress,
  type SocketAddress,
  type TextEncoding,
  type Transport,
  type WriteBufferLimits,
} from './transport.js';
