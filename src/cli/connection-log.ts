/**
 * Logs how the connections of `aionet serve` fail: each fault once, with the peer's address and
 * the error code, whichever way it surfaced — through the server's error hook (a callback threw,
 * a frame was too large) or only in `connectionLost` (a reset, a deadline, the write cap). Also
 * turns the server's other reports (connections over the limit, accept failures) into events.
 *
 * Messages and codes only: an error's `cause` and stack are never logged, so no payload byte
 * can reach the log through them.
 */
import { AionetError, ConnectionLimitError } from '../errors.js';
import type { ErrorHook } from '../server.js';
import { formatAddress, type Transport } from '../transport.js';
import type { CliLogger, ConnectionFault } from './logger.js';

export class ConnectionLog {
  readonly #logger: CliLogger;
  /** Faults already logged through the error hook: `connectionLost` gets them again. */
  readonly #logged = new WeakSet<Error>();

  constructor(logger: CliLogger) {
    this.#logger = logger;
  }

  /** The server's `onError` hook. */
  readonly onError: ErrorHook = (error, context) => {
    const { transport } = context;
    if (transport !== undefined) {
      this.#logged.add(error);
      this.#logger.connectionError(fault(error, peerOf(transport)));
      return;
    }
    if (error instanceof ConnectionLimitError) {
      this.#logger.limitReject(error.limit, error.rejected, error.message);
      return;
    }
    this.#logger.acceptError(context.operation ?? 'server', codeOf(error), error.message);
  };

  /**
   * The server's `onConnection` hook: asks a `net` connection for its peer's address while the
   * socket still knows it, so that a reset Node reports after closing the socket can name the
   * peer. That costs each connection about 500 bytes (Node keeps the answer on the socket), so
   * it is done only when per-connection events are on: with `--quiet` a reset on `net` is
   * logged with peer `unknown`. The native transport needs nothing: its engine keeps the address.
   */
  get onConnection(): ((transport: Transport) => void) | undefined {
    return this.#logger.perConnection('warn') ? rememberPeer : undefined;
  }

  /**
   * The server's `onConnectionLost` hook: a fault not logged yet as `connection_error`, a clean
   * end as `connection_closed` (debug). No wrapper around the protocol, nothing per read.
   */
  get onConnectionLost(): ((transport: Transport, error: Error | undefined) => void) | undefined {
    const logger = this.#logger;
    // Warnings are the most severe events logged here: when they are off, so is everything else.
    if (!logger.enabled('warn')) return undefined;
    return (transport, error) => {
      const peer = peerOf(transport);
      if (error === undefined) logger.connectionClosed(peer);
      else if (!this.#logged.has(error)) logger.connectionError(fault(error, peer));
    };
  }
}

function rememberPeer(transport: Transport): void {
  // Only a transport with a socket object (`net`) forgets its peer when the socket closes.
  if (transport.getExtraInfo('socket') !== undefined) transport.getExtraInfo('peername');
}

function peerOf(transport: Transport): string {
  try {
    return formatAddress(transport.getExtraInfo('peername'));
  } catch {
    return 'unknown';
  }
}

function fault(error: Error, peer: string): ConnectionFault {
  const errno = (error as { errno?: unknown }).errno;
  return {
    peer,
    code: codeOf(error),
    errno: typeof errno === 'string' ? errno : undefined,
    message: error.message,
  };
}

function codeOf(error: Error): string {
  if (error instanceof AionetError) return error.code;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : 'EUNKNOWN';
}
