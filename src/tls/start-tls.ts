/**
 * `startTls`: upgrading a plain connection to TLS in place (asyncio's `loop.start_tls`), for
 * STARTTLS-style protocols. The transport keeps its protocol and switches sockets:
 *
 * - bytes the protocol already received are its own (a client that pipelined bytes after its
 *   STARTTLS command sent them in clear: drop them — the STARTTLS injection of CVE-2011-0411);
 * - bytes received but not yet delivered, and all that follow, are the handshake's;
 * - writes made before the call leave first, in clear; writes made during the handshake are
 *   held and leave encrypted once it completes;
 * - no `dataReceived` until the handshake completes; then reading goes on as the protocol
 *   left it (paused stays paused).
 *
 * A failed handshake aborts the connection: the promise rejects with a `TlsHandshakeError`, and
 * `connectionLost` receives the same error.
 */
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { TlsHandshakeError } from '../errors.js';
import { clientHandshakeSettings, serverHandshakeSettings } from './context.js';
import { clientTlsSocket, serverTlsSocket, watchHandshake } from './handshake.js';
import type { StartTlsOptions } from './options.js';

/** What `startTls` needs of the transport it upgrades. */
export interface TlsSwitchable {
  switchToTls(tlsSocket: TLSSocket): void;
  tlsEstablished(): void;
  abort(error?: Error): void;
}

/**
 * Upgrades `transport`, whose socket is `socket`. Options are checked before anything changes.
 * @throws InvalidArgumentError for bad options (at once; the connection is untouched).
 */
export function startTls(
  transport: TlsSwitchable,
  socket: Socket,
  options: StartTlsOptions,
): Promise<void> {
  let tlsSocket: TLSSocket;
  let timeout: number;
  let requireVerifiedPeer = false;
  if (options.isServer === true) {
    const settings = serverHandshakeSettings(options);
    tlsSocket = serverTlsSocket(socket, settings);
    timeout = settings.handshakeTimeout;
    requireVerifiedPeer = settings.requestCert && settings.rejectUnauthorized;
  } else {
    const settings = clientHandshakeSettings(options, undefined);
    tlsSocket = clientTlsSocket(socket, settings);
    timeout = settings.handshakeTimeout;
  }
  transport.switchToTls(tlsSocket);
  return new Promise((resolve, reject) => {
    watchHandshake(tlsSocket, {
      side: options.isServer === true ? 'server' : 'client',
      timeout,
      requireVerifiedPeer,
      done: (error: TlsHandshakeError | undefined) => {
        if (error === undefined) {
          transport.tlsEstablished();
          resolve();
          return;
        }
        transport.abort(error);
        reject(error);
      },
    });
  });
}
