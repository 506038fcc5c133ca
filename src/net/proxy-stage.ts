/**
 * The PROXY protocol stage of a connection a server accepted (`createServer({ proxyProtocol })`):
 * reads the header off the socket before anything else sees a byte, checks that the peer is a
 * trusted proxy, and hands over — the addresses to the transport, the bytes after the header to
 * the next stage (TLS, or the protocol's first `dataReceived`). A connection the stage
 * refuses is counted (`stats.proxyRejected`), reported once, and reset; its protocol never
 * hears of it.
 *
 * Servers without the option never come here: their accept path is unchanged.
 */
import { Buffer } from 'node:buffer';
import type { Socket } from 'node:net';
import type { ConnectionRegistry } from '../connection-registry.js';
import { DEFAULT_PROXY_HEADER_TIMEOUT_MS } from '../constants.js';
import {
  FrameTooLargeError,
  InvalidArgumentError,
  ProxyProtocolError,
  ProxyRejectedError,
  type ProxyRejectReason,
} from '../errors.js';
import { CidrList } from '../proxy/cidr.js';
import { DEFAULT_V2_MAX_LENGTH } from '../proxy/constants.js';
import { proxiedAddresses } from '../proxy/header.js';
import { ProxyHeaderParser } from '../proxy/parser.js';
import type { ProxyProtocolOptions } from '../proxy/server-options.js';
import { formatAddress } from '../transport.js';
import type { SocketTransport } from './socket-transport.js';

/** The option, checked and resolved. */
export interface ProxyStageSettings {
  readonly trusted: CidrList;
  readonly required: boolean;
  /** Milliseconds. */
  readonly timeout: number;
  readonly maxV2Length: number;
}

/**
 * Checks and resolves `proxyProtocol`.
 * @throws InvalidArgumentError naming what is wrong.
 */
export function proxyStageSettings(options: ProxyProtocolOptions): ProxyStageSettings {
  if (options === null || typeof options !== 'object') {
    throw new InvalidArgumentError('proxyProtocol must be an object with trusted networks');
  }
  const { trusted, required, timeout, maxV2Length } = options;
  if (!Array.isArray(trusted) || trusted.length === 0) {
    throw new InvalidArgumentError(
      'proxyProtocol.trusted must list at least one network (CIDR) of trusted proxies',
    );
  }
  if (required !== undefined && typeof required !== 'boolean') {
    throw new InvalidArgumentError('proxyProtocol.required must be a boolean');
  }
  const ms = timeout ?? DEFAULT_PROXY_HEADER_TIMEOUT_MS;
  if (!(Number.isFinite(ms) && ms > 0)) {
    throw new InvalidArgumentError(`proxyProtocol.timeout must be a number of ms > 0, got ${ms}`);
  }
  const maxLength = maxV2Length ?? DEFAULT_V2_MAX_LENGTH;
  // The parser checks the bound's range; make one now so a bad one fails at createServer.
  new ProxyHeaderParser({ maxV2Length: maxLength });
  return {
    trusted: new CidrList(trusted),
    required: required ?? true,
    timeout: ms,
    maxV2Length: maxLength,
  };
}

/**
 * Runs the stage on `socket`, the transport's: calls `next(rest)` once the connection may go on
 * (with the header's addresses given to the transport, or none with `required: false`), or
 * refuses it. Does nothing more once the transport is closing (the server closed it meanwhile).
 */
export function readProxyHeader(
  socket: Socket,
  transport: SocketTransport,
  registry: ConnectionRegistry,
  settings: ProxyStageSettings,
  next: (rest: Buffer) => void,
): void {
  const peer = transport.getExtraInfo('peername');
  if (peer === undefined) {
    // The socket has no peer address any more: the peer reset it between accept and now (a
    // balancer's connect-only health check). Nothing to judge, nothing to report.
    transport.abort();
    return;
  }
  const trusted = settings.trusted.contains(peer);
  const from = ` (from ${formatAddress(peer)})`;
  const required = settings.required;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const reject = (reason: ProxyRejectReason, message: string, cause?: unknown) => {
    stop();
    if (transport.isClosing()) return;
    registry.stats.proxyRejected[reason]++;
    // abort(error) reports it, once.
    transport.abort(new ProxyRejectedError(reason, `${message}${from}`, cause));
  };

  const parser = new ProxyHeaderParser({ maxV2Length: settings.maxV2Length });
  // Without `required`, bytes that turn out not to be a header are the protocol's: keep them
  // until that is known (at most the 12 bytes of a signature).
  const held: Buffer[] = [];
  /** Hands over, with the bytes after the header, to whoever reads next. */
  const proceed = (rest: Buffer) => {
    stop();
    if (!transport.isClosing()) next(rest);
  };
  const onData = (chunk: Buffer) => {
    if (transport.isClosing()) {
      stop();
      return;
    }
    if (!required) held.push(chunk);
    let result: ReturnType<ProxyHeaderParser['feed']>;
    try {
      result = parser.feed(chunk);
    } catch (error) {
      if (error instanceof ProxyProtocolError && error.reason === 'signature') {
        if (required) reject('missing', 'the connection did not start with a header', error);
        else proceed(Buffer.concat(held));
      } else if (error instanceof FrameTooLargeError) {
        reject('too_large', `header over ${error.limit} bytes`, error);
      } else {
        reject('invalid', (error as Error).message, error);
      }
      return;
    }
    if (!result.complete) return;
    if (!trusted) {
      reject('untrusted', 'a header from a source that is not a trusted proxy (spoofing)');
      return;
    }
    const { source } = proxiedAddresses(result.header, { peername: peer, sockname: undefined });
    transport.setProxied(result.header, source);
    registry.stats.proxyAccepted++;
    proceed(result.rest);
  };
  const onEnd = () => reject('incomplete', 'the peer closed before the header was complete');
  const onTimeout = () => {
    if (!required && held.length === 0) {
      // Not a byte: a protocol whose server speaks first. Serve it as it is.
      proceed(Buffer.alloc(0));
      return;
    }
    reject('timeout', `header not complete within ${settings.timeout} ms`);
  };
  function stop(): void {
    clearTimeout(timer);
    socket.removeListener('data', onData);
    socket.removeListener('end', onEnd);
    socket.removeListener('close', stop);
  }
  if (!trusted && required) {
    // Nothing this peer can send would be accepted: no need to read it.
    reject('untrusted', 'connection from a source that is not a trusted proxy');
    return;
  }
  socket.on('data', onData);
  socket.on('end', onEnd);
  socket.on('close', stop);
  timer = setTimeout(onTimeout, settings.timeout);
}
