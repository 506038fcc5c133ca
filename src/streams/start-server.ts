/**
 * `startServer`: a server whose connections are each served by one async handler with a reader
 * and a writer (asyncio's `start_server`). Built on `createServer` and `StreamReaderProtocol`.
 */
import { InvalidArgumentError, ProtocolCallbackError } from '../errors.js';
import { createServer } from '../net/create-server.js';
import type { ServerOptions } from '../options.js';
import { defaultErrorHook, type ErrorHook, type Server } from '../server.js';
import { resolveLimit, StreamReader, type StreamReaderOptions } from './reader.js';
import { StreamReaderProtocol } from './stream-protocol.js';
import type { StreamWriter } from './writer.js';

/** Serves one connection. When it settles the connection is closed (see `startServer`). */
export type StreamHandler = (reader: StreamReader, writer: StreamWriter) => void | Promise<void>;

/** Options of `startServer`: the server's, plus the reader's `limit`. */
export interface StartServerOptions extends ServerOptions, StreamReaderOptions {}

/**
 * Listen, and run `handler(reader, writer)` for every connection.
 *
 * - When the handler returns (or its promise resolves), the writer is closed: what is buffered
 *   is flushed, then FIN. asyncio leaves that to the handler; forgetting it leaks a socket.
 * - When it throws (or rejects), that connection is aborted (RST) and the error reaches
 *   `options.onError` as a `ProtocolCallbackError` whose `callback` is `'handler'` and whose
 *   `cause` is the error. Other connections are not touched.
 *
 * @throws ListenError when an address cannot be listened on.
 * @throws InvalidArgumentError for a missing handler or bad options.
 */
export async function startServer(
  handler: StreamHandler,
  options: StartServerOptions = {},
): Promise<Server> {
  if (typeof handler !== 'function') {
    throw new InvalidArgumentError('startServer() needs a handler function');
  }
  const { limit: limitOption, ...serverOptions } = options;
  const limit = resolveLimit(limitOption);
  const onError = options.onError ?? defaultErrorHook;
  return createServer(
    () =>
      new StreamReaderProtocol(new StreamReader({ limit }), (reader, writer) => {
        serve(handler, reader, writer, onError);
      }),
    serverOptions,
  );
}

function serve(
  handler: StreamHandler,
  reader: StreamReader,
  writer: StreamWriter,
  onError: ErrorHook,
): void {
  // Started on a microtask rather than inside connectionMade: the handler's first writes and
  // closes do not re-enter the transport mid-callback, and a synchronous throw is caught the
  // same way as a rejection.
  Promise.resolve()
    .then(() => handler(reader, writer))
    .then(
      () => writer.close(),
      (error: unknown) => {
        const transport = writer.transport;
        try {
          onError(new ProtocolCallbackError('handler', error), { transport });
        } catch {
          // A failing error hook must not take the server down; nowhere left to report to.
        }
        transport.abort();
      },
    );
}
