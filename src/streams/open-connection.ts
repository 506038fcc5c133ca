/**
 * `openConnection`: connect and get a reader and a writer (asyncio's `open_connection`). Built on
 * `createConnection` and `StreamReaderProtocol`.
 */
import { createConnection } from '../net/create-connection.js';
import type { ConnectionOptions } from '../options.js';
import { resolveLimit, StreamReader, type StreamReaderOptions } from './reader.js';
import { StreamReaderProtocol } from './stream-protocol.js';
import type { StreamWriter } from './writer.js';

/** Options of `openConnection`: the connection's, plus the reader's `limit`. */
export interface OpenConnectionOptions extends ConnectionOptions, StreamReaderOptions {}

/**
 * Connect, and resolve with the connection's reader and writer. The connection stays open until
 * `writer.close()` (or the peer ends it): a server's FIN ends reading only.
 * @throws ConnectionRefusedError when nothing listens there.
 * @throws ConnectError for any other connect failure.
 * @throws InvalidArgumentError for bad options.
 */
export async function openConnection(
  options: OpenConnectionOptions,
): Promise<[StreamReader, StreamWriter]> {
  const { limit, ...connectionOptions } = options;
  const reader = new StreamReader({ limit: resolveLimit(limit) });
  const [, protocol] = await createConnection(
    () => new StreamReaderProtocol(reader),
    connectionOptions,
  );
  // createConnection resolves after connectionMade, which made the writer.
  return [reader, protocol.writer!];
}
