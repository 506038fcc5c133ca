/**
 * aionet's public names. No logic lives here.
 */

export { type Backend, nativeAvailable, resolveBackend } from './backend.js';
export * from './constants.js';
export { createConnection } from './create-connection.js';
export { createServer } from './create-server.js';
export * from './errors.js';
export {
  createMetrics,
  DEFAULT_METRICS_PREFIX,
  type MetricsOptions,
} from './metrics/create-metrics.js';
export {
  type MetricsEndpoint,
  type MetricsEndpointOptions,
  serveMetrics,
} from './metrics/serve-metrics.js';
export { canStartTls, type TlsUpgradableTransport } from './net/socket-transport.js';
export type {
  ConnectionOptions,
  ServerOptions,
  SocketOptions,
  TransportChoice,
} from './options.js';
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
export type { ProxyProtocolOptions } from './proxy/server-options.js';
export {
  type ErrorContext,
  type ErrorHook,
  type Listener,
  Server,
  type TlsReloader,
} from './server.js';
export {
  StreamTransport,
  type StreamTransportOptions,
  type TransportOwner,
} from './stream-transport.js';
export type {
  PemInput,
  StartTlsOptions,
  TlsCipher,
  TlsClientOptions,
  TlsCommonOptions,
  TlsCredentials,
  TlsServerOptions,
  TlsVersion,
} from './tls/options.js';
export {
  type ExtraInfo,
  formatAddress,
  type SocketAddress,
  type TextEncoding,
  type Transport,
  type WriteBufferLimits,
} from './transport.js';
export {
  type GroupOutput,
  type GroupSettings,
  type RestartPolicy,
  type ServeWorkersOptions,
  type SlotStatus,
  serveWorkers,
  type WorkerGroupHandle,
  type WorkerMode,
  type WorkerServerOptions,
} from './workers/index.js';
