/**
 * The error catalogue: every error aionet raises or reports is one of these classes, each with a
 * stable `code` that callers can switch on. Misuse of the API is thrown at once; faults of the
 * network or of the peer are delivered to `Protocol.connectionLost(error)` or an `onError` hook.
 *
 * Nothing here imports from `node:`; the classes carry plain data so a later backend (native,
 * Bun, Deno) raises the very same ones.
 */

/** Every stable error code aionet uses. */
export type ErrorCode =
  | 'ERR_AIONET_INVALID_ARGUMENT'
  | 'ERR_AIONET_WRITE_AFTER_EOF'
  | 'ERR_AIONET_CALLBACK_FAILED'
  | 'ERR_AIONET_FACTORY_FAILED'
  | 'ERR_AIONET_CONNECTION_RESET'
  | 'ERR_AIONET_CONNECTION_REFUSED'
  | 'ERR_AIONET_SOCKET'
  | 'ERR_AIONET_LISTEN'
  | 'ERR_AIONET_CONNECT'
  | 'ERR_AIONET_SERVER_CLOSED'
  | 'ERR_AIONET_FRAME_TOO_LARGE'
  | 'ERR_AIONET_FRAME_INVALID'
  | 'ERR_AIONET_INCOMPLETE_READ'
  | 'ERR_AIONET_LIMIT_OVERRUN'
  | 'ERR_AIONET_IDLE_TIMEOUT'
  | 'ERR_AIONET_WRITE_STALL'
  | 'ERR_AIONET_WRITE_BUFFER_OVERFLOW'
  | 'ERR_AIONET_CONNECTION_LIMIT'
  | 'ERR_AIONET_TLS_HANDSHAKE'
  | 'ERR_AIONET_PROXY_REJECTED';

/** The base class of every aionet error. */
export class AionetError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }

  override get name(): string {
    return this.constructor.name;
  }
}

/** An argument or option is out of its domain. Thrown at once, never delivered later. */
export class InvalidArgumentError extends AionetError {
  constructor(message: string) {
    super('ERR_AIONET_INVALID_ARGUMENT', message);
  }
}

/** `write()` after `writeEof()`: the write side is already shut. Thrown at once. */
export class WriteAfterEofError extends AionetError {
  constructor() {
    super('ERR_AIONET_WRITE_AFTER_EOF', 'cannot write after writeEof()');
  }
}

/** A callback of the user's protocol threw or its promise rejected; it failed that connection. */
export class ProtocolCallbackError extends AionetError {
  /** The callback that failed, e.g. `dataReceived`. */
  readonly callback: string;

  constructor(callback: string, cause: unknown) {
    super('ERR_AIONET_CALLBACK_FAILED', `protocol.${callback}() failed: ${describe(cause)}`, {
      cause,
    });
    this.callback = callback;
  }
}

/** The protocol factory threw for a new connection, which was dropped. */
export class ProtocolFactoryError extends AionetError {
  constructor(cause: unknown) {
    super('ERR_AIONET_FACTORY_FAILED', `protocol factory failed: ${describe(cause)}`, { cause });
  }
}

/** The peer reset the connection (ECONNRESET) or it broke while we wrote (EPIPE). */
export class ConnectionResetError extends AionetError {
  /** The system error code, `ECONNRESET` or `EPIPE`. */
  readonly errno: string;

  constructor(errno: string, cause?: unknown) {
    super('ERR_AIONET_CONNECTION_RESET', `connection reset by peer (${errno})`, { cause });
    this.errno = errno;
  }
}

/** Nobody listens at the address a client connected to (ECONNREFUSED). */
export class ConnectionRefusedError extends AionetError {
  readonly address: string;

  constructor(address: string, cause?: unknown) {
    super('ERR_AIONET_CONNECTION_REFUSED', `connection refused by ${address}`, { cause });
    this.address = address;
  }
}

/** Any other system-level socket failure; `errno` holds the system code (`ETIMEDOUT`, …). */
export class SocketError extends AionetError {
  readonly errno: string;

  constructor(errno: string, message: string, cause?: unknown) {
    super('ERR_AIONET_SOCKET', message, { cause });
    this.errno = errno;
  }
}

/** A server could not listen on one of its addresses. */
export class ListenError extends AionetError {
  /** Where it tried to listen: `127.0.0.1:7000`, `[::1]:7000` or a socket path. */
  readonly address: string;
  readonly errno: string;

  constructor(address: string, errno: string, cause?: unknown) {
    super('ERR_AIONET_LISTEN', `cannot listen on ${address}: ${explainErrno(errno)}`, { cause });
    this.address = address;
    this.errno = errno;
  }
}

/** A client could not connect (other than a plain refusal). */
export class ConnectError extends AionetError {
  readonly address: string;
  readonly errno: string;

  constructor(address: string, errno: string, cause?: unknown) {
    super('ERR_AIONET_CONNECT', `cannot connect to ${address}: ${explainErrno(errno)}`, { cause });
    this.address = address;
    this.errno = errno;
  }
}

/** The server was closed while an operation was waiting on it. */
export class ServerClosedError extends AionetError {
  constructor() {
    super('ERR_AIONET_SERVER_CLOSED', 'the server is closed');
  }
}

/** A frame's size went over the codec's maximum. Nothing past the limit was buffered. */
export class FrameTooLargeError extends AionetError {
  /** The maximum frame size in bytes. */
  readonly limit: number;
  /** The size seen: a declared length, or the bytes buffered without a delimiter. */
  readonly size: number;

  constructor(limit: number, size: number) {
    super('ERR_AIONET_FRAME_TOO_LARGE', `frame of ${size} bytes exceeds the limit of ${limit}`);
    this.limit = limit;
    this.size = size;
  }
}

/** The input cannot be a frame of this codec (a negative adjusted length, a bad header…). */
export class FrameInvalidError extends AionetError {
  constructor(message: string) {
    super('ERR_AIONET_FRAME_INVALID', message);
  }
}

/** The stream ended before `readExactly(n)` got its bytes; `partial` holds what did arrive. */
export class IncompleteReadError extends AionetError {
  readonly partial: Buffer;
  /** How many bytes were asked for (undefined when reading up to a separator). */
  readonly expected: number | undefined;

  constructor(partial: Buffer, expected: number | undefined) {
    super(
      'ERR_AIONET_INCOMPLETE_READ',
      `${partial.length} bytes read on a total of ${expected ?? 'undefined'} expected bytes`,
    );
    this.partial = partial;
    this.expected = expected;
  }
}

/** A separator was not found within the stream's limit. `consumed` bytes stay buffered. */
export class LimitOverrunError extends AionetError {
  readonly limit: number;
  readonly consumed: number;

  constructor(limit: number, consumed: number) {
    super('ERR_AIONET_LIMIT_OVERRUN', `separator not found within the limit of ${limit} bytes`);
    this.limit = limit;
    this.consumed = consumed;
  }
}

/** No bytes moved either way for the idle timeout; the connection was closed. */
export class IdleTimeoutError extends AionetError {
  readonly timeoutMs: number;

  constructor(timeoutMs: number) {
    super('ERR_AIONET_IDLE_TIMEOUT', `connection idle for ${timeoutMs} ms`);
    this.timeoutMs = timeoutMs;
  }
}

/** The peer did not drain the write buffer within the write-stall deadline. */
export class WriteStallError extends AionetError {
  readonly timeoutMs: number;
  readonly buffered: number;

  constructor(timeoutMs: number, buffered: number) {
    super(
      'ERR_AIONET_WRITE_STALL',
      `peer did not drain ${buffered} buffered bytes within ${timeoutMs} ms`,
    );
    this.timeoutMs = timeoutMs;
    this.buffered = buffered;
  }
}

/** A write would take the buffer past its hard cap; the connection was dropped. */
export class WriteBufferOverflowError extends AionetError {
  readonly limit: number;
  readonly size: number;

  constructor(limit: number, size: number) {
    super(
      'ERR_AIONET_WRITE_BUFFER_OVERFLOW',
      `write buffer of ${size} bytes exceeds the cap of ${limit}`,
    );
    this.limit = limit;
    this.size = size;
  }
}

/** Connections arrived past `maxConnections` and were turned away (reported at most once a second). */
export class ConnectionLimitError extends AionetError {
  readonly limit: number;
  /** Connections turned away since the last report. */
  readonly rejected: number;

  constructor(limit: number, rejected: number) {
    super(
      'ERR_AIONET_CONNECTION_LIMIT',
      `connection limit of ${limit} reached: ${rejected} connection(s) turned away`,
    );
    this.limit = limit;
    this.rejected = rejected;
  }
}

/** Why a TLS handshake failed, as counted in `ServerStats.tlsHandshakeFailures`. */
export type TlsFailureReason =
  /** The peer offered only versions under the minimum (TLS 1.0, 1.1), or over the maximum. */
  | 'protocol_version'
  /** No cipher suite or group both sides support. */
  | 'no_shared_cipher'
  /** The client offered ALPN protocols and none is the server's. */
  | 'alpn'
  /** A required client certificate was missing, or did not verify. */
  | 'client_certificate'
  /** The server's certificate did not verify (a client's handshake). */
  | 'server_certificate'
  /** The handshake did not complete within the handshake timeout. */
  | 'timeout'
  /** The peer closed or reset the connection mid-handshake. */
  | 'disconnected'
  /** Bytes that are not TLS (plain text, junk, a record that does not parse). */
  | 'malformed'
  /** Anything else OpenSSL refused. */
  | 'other';

/**
 * A TLS handshake failed; the connection was closed. `reason` classifies it; the message carries
 * OpenSSL's reason text (never key material).
 */
export class TlsHandshakeError extends AionetError {
  readonly reason: TlsFailureReason;

  constructor(reason: TlsFailureReason, detail: string, cause?: unknown) {
    super('ERR_AIONET_TLS_HANDSHAKE', `TLS handshake failed (${reason}): ${detail}`, { cause });
    this.reason = reason;
  }
}

/** Which rule of the spec a PROXY protocol header broke. */
export type ProxyErrorReason =
  /** Neither the v1 text `PROXY` nor the v2 binary signature. */
  | 'signature'
  /** A v2 signature with a version other than 2. */
  | 'version'
  /** A v2 command other than LOCAL (0) or PROXY (1). */
  | 'command'
  /** A v2 address family or transport protocol outside the spec's table. */
  | 'family'
  /** A v1 line that does not match the grammar (spaces, keywords, a bare CR or LF…). */
  | 'syntax'
  /** An address or port that is not canonical, or a v2 address block too short for its family. */
  | 'address'
  /** A truncated TLV, a TLV of the wrong length, or a registered TLV given twice. */
  | 'tlv'
  /** The CRC32C TLV does not match the header. */
  | 'checksum';

/**
 * A PROXY protocol header broke the spec; `reason` says how. A `FrameInvalidError` (same code,
 * delivered as is by transports) so a server can count rejections by cause without parsing
 * messages. A header over its size limit is a `FrameTooLargeError` instead, as for every codec.
 */
export class ProxyProtocolError extends FrameInvalidError {
  readonly reason: ProxyErrorReason;

  constructor(reason: ProxyErrorReason, message: string) {
    super(`invalid PROXY protocol header: ${message}`);
    this.reason = reason;
  }
}

/** Why a server's PROXY protocol stage turned a connection away (`ServerStats.proxyRejected`). */
export type ProxyRejectReason =
  /** A header (or, with `required`, any connection) from a source outside `trusted`: spoofing. */
  | 'untrusted'
  /** `required`, and the connection did not start with a header. */
  | 'missing'
  /** A header that breaks the spec (`cause` is the `ProxyProtocolError`). */
  | 'invalid'
  /** A header over the size limit (`cause` is the `FrameTooLargeError`). */
  | 'too_large'
  /** The header did not complete within the timeout. */
  | 'timeout'
  /** The peer closed the connection before the header was complete. */
  | 'incomplete';

/**
 * A server's PROXY protocol stage turned a connection away before the protocol saw a byte;
 * `reason` says why, `cause` holds the parser's error where there is one.
 */
export class ProxyRejectedError extends AionetError {
  readonly reason: ProxyRejectReason;

  constructor(reason: ProxyRejectReason, message: string, cause?: unknown) {
    super('ERR_AIONET_PROXY_REJECTED', `PROXY protocol: ${message}`, { cause });
    this.reason = reason;
  }
}

const ERRNO_TEXT: Readonly<Record<string, string>> = {
  EADDRINUSE: 'address already in use',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EADDRNOTAVAIL: 'address not available',
  ENOTFOUND: 'host not found',
  ECONNREFUSED: 'connection refused',
  ETIMEDOUT: 'timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files in the system',
  ENOENT: 'no such file or directory',
};

/** A short human text for a system error code (`EADDRINUSE` → `address already in use`). */
export function explainErrno(errno: string): string {
  return ERRNO_TEXT[errno] ?? errno;
}

function describe(value: unknown): string {
  if (value instanceof Error) return value.message;
  return String(value);
}
