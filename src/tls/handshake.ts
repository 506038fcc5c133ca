/**
 * One TLS handshake over an existing socket, either side: the `TLSSocket` that runs it, and a
 * watch with a deadline that settles once — with nothing when the connection is secure (and,
 * on a server that requires one, the client's certificate verified), or with a classified
 * `TlsHandshakeError`: an OpenSSL error, the peer closing or resetting mid-handshake, the
 * deadline. It only watches; closing the socket on failure is the caller's.
 */
import type { Socket } from 'node:net';
import tls, { type TLSSocket } from 'node:tls';
import type { TlsHandshakeError } from '../errors.js';
import type { ClientHandshakeSettings, ServerHandshakeSettings } from './context.js';
import { handshakeEofError, handshakeError, handshakeTimeoutError } from './failure.js';

/**
 * The server side of TLS over `socket`, which it takes over: bytes `socket` holds unread (put
 * back by a stage before) are the first the handshake reads; its pending writes leave first,
 * in clear.
 */
export function serverTlsSocket(socket: Socket, settings: ServerHandshakeSettings): TLSSocket {
  return new tls.TLSSocket(socket, {
    isServer: true,
    secureContext: settings.secureContext,
    requestCert: settings.requestCert,
    rejectUnauthorized: settings.rejectUnauthorized,
    ...(settings.ALPNProtocols === undefined ? {} : { ALPNProtocols: settings.ALPNProtocols }),
    ...(settings.SNICallback === undefined ? {} : { SNICallback: settings.SNICallback }),
  });
}

/** The client side of TLS over `socket` (connected), which it takes over. */
export function clientTlsSocket(socket: Socket, settings: ClientHandshakeSettings): TLSSocket {
  const tlsSocket = tls.connect({ ...settings.connectOptions, socket });
  // No renegotiation either way (the server's contexts refuse it too).
  tlsSocket.disableRenegotiation();
  return tlsSocket;
}

/** How to judge one handshake. */
export interface HandshakeWatch {
  readonly side: 'server' | 'client';
  /** Milliseconds; 0: no deadline. */
  readonly timeout: number;
  /** Server side: the client's certificate must have verified. */
  readonly requireVerifiedPeer?: boolean;
  /** Called once: `undefined` when secure, else why not. */
  readonly done: (error: TlsHandshakeError | undefined) => void;
}

/** Watches `socket`'s handshake; returns a function that stops watching without a verdict. */
export function watchHandshake(socket: TLSSocket, watch: HandshakeWatch): () => void {
  const { side, done } = watch;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const secureEvent = side === 'server' ? 'secure' : 'secureConnect';
  const stop = () => {
    if (timer !== undefined) clearTimeout(timer);
    socket.removeListener(secureEvent, onSecure);
    socket.removeListener('error', onError);
    socket.removeListener('end', onEnd);
    socket.removeListener('close', onEnd);
  };
  const settle = (error: TlsHandshakeError | undefined) => {
    stop();
    done(error);
  };
  const onSecure = () => {
    if (watch.requireVerifiedPeer === true) {
      const failure = verifyError(socket);
      if (failure !== undefined) {
        settle(handshakeError(failure, 'server'));
        return;
      }
    }
    settle(undefined);
  };
  const onError = (error: Error) => settle(handshakeError(error, side));
  const onEnd = () => settle(handshakeEofError());
  // Listeners go first, so they settle before anyone else hears of the same event.
  socket.prependListener(secureEvent, onSecure);
  socket.prependListener('error', onError);
  socket.prependListener('end', onEnd);
  socket.prependListener('close', onEnd);
  if (watch.timeout > 0) {
    timer = setTimeout(() => settle(handshakeTimeoutError(watch.timeout)), watch.timeout);
  }
  return stop;
}

/**
 * The verification error of the client's certificate on a server socket, if any. `tls.Server`
 * does this check itself; a server socket made by hand must, and Node exposes the result only on
 * its handle (`verifyError()`, what `tls.Server` calls). Without it, fail closed.
 */
function verifyError(socket: TLSSocket): Error | undefined {
  const handle = (socket as unknown as { _handle?: { verifyError?: () => Error | null } })._handle;
  if (typeof handle?.verifyError !== 'function') {
    return Object.assign(new Error('cannot verify the client certificate'), {
      code: 'CERT_UNVERIFIABLE',
    });
  }
  return handle.verifyError() ?? undefined;
}
