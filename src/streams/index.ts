/**
 * `aionet/streams`: the async stream API (asyncio's streams), built only on the public
 * Protocol / Transport contract. Public names only, no logic.
 */
export { type OpenConnectionOptions, openConnection } from './open-connection.js';
export {
  type LinesOptions,
  type ReadFlowControl,
  StreamReader,
  type StreamReaderOptions,
} from './reader.js';
export { type StartServerOptions, type StreamHandler, startServer } from './start-server.js';
export { type StreamConnectedCallback, StreamReaderProtocol } from './stream-protocol.js';
export { StreamWriter, type WriterFlow } from './writer.js';
