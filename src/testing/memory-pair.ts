/**
 * `connectPair`: two protocols connected in memory, each on a `MemoryTransport`, as if one had
 * connected to the other over TCP — a client and a server in one synchronous test.
 *
 * What one side writes, the other receives, one `dataReceived` per write. Backpressure is
 * real: while a side does not read (`pauseReading()`, or the safe default), what the other
 * writes stays in the writer's buffer, which grows until the writer gets `pauseWriting`.
 * `writeEof()` reaches the other side as `eofReceived`, after the bytes written before it;
 * `close()` completes once the writer's buffer is flushed; `abort()` ends the aborting side
 * with no error and the other with a `ConnectionResetError`. Bytes written to a side that is
 * already gone are discarded (no simulated EPIPE: a test that wants a reset says so).
 */
import type { AnyProtocol } from '../protocol.js';
import { DeliveryLoop } from './delivery-loop.js';
import {
  linkTransports,
  MEMORY_CLIENT_ADDRESS,
  MEMORY_SERVER_ADDRESS,
  MemoryTransport,
  type MemoryTransportOptions,
} from './memory-transport.js';

/** Options of one side of a pair (the simulated-peer options make no sense there). */
export type MemoryPairSideOptions = Omit<MemoryTransportOptions, 'autoFlush' | 'peerReading'>;

/** Options of `connectPair`. */
export interface MemoryPairOptions {
  /** The client side's transport options. */
  readonly client?: MemoryPairSideOptions;
  /** The server side's transport options. */
  readonly server?: MemoryPairSideOptions;
  /** Deliver as soon as the outermost call returns; `false`: only on `flush()`. @default true */
  readonly autoFlush?: boolean;
}

/** Two connected memory transports. */
export interface MemoryPair {
  /** The connecting side's transport. */
  readonly client: MemoryTransport;
  /** The accepting side's transport. */
  readonly server: MemoryTransport;
  /**
   * Deliver everything due on both sides, until nothing moves; needed only with
   * `autoFlush: false`.
   */
  flush(): void;
}

/**
 * Connect `client` to `server` in memory. `connectionMade` goes to the server first, then to the
 * client, and both come before any byte is delivered. With `autoFlush` (the default) every call
 * has delivered all it caused, on both sides, by the time it returns.
 */
export function connectPair(
  client: AnyProtocol,
  server: AnyProtocol,
  options: MemoryPairOptions = {},
): MemoryPair {
  const loop = new DeliveryLoop(options.autoFlush ?? true);
  const clientTransport = new MemoryTransport(client, {
    sockname: MEMORY_CLIENT_ADDRESS,
    peername: MEMORY_SERVER_ADDRESS,
    ...options.client,
  });
  const serverTransport = new MemoryTransport(server, {
    sockname: MEMORY_SERVER_ADDRESS,
    peername: MEMORY_CLIENT_ADDRESS,
    ...options.server,
  });
  linkTransports(clientTransport, serverTransport, loop);
  loop.run(() => {
    serverTransport.start();
    clientTransport.start();
  });
  return {
    client: clientTransport,
    server: serverTransport,
    flush: () => loop.flush(),
  };
}
