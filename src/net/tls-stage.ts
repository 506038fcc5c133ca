/**
 * The TLS stage of a connection a server accepted (`createServer({ tls })`): the handshake runs
 * before the protocol exists for the connection, with the server's current settings (so
 * `reloadTls` applies to the next handshake) and a deadline. A failed handshake is counted by
 * reason (`stats.tlsHandshakeFailures`), reported once, and the connection reset; its protocol
 * never hears of it.
 */
import type { Socket } from 'node:net';
import type { ConnectionRegistry } from '../connection-registry.js';
import type { TlsSettingsSource } from '../tls/context.js';
import { serverTlsSocket, watchHandshake } from '../tls/handshake.js';
import type { SocketTransport } from './socket-transport.js';

/**
 * Runs the server handshake over `socket`, the transport's, and calls `next()` once it
 * completed. `rest` (what came after a PROXY header) is the first the handshake reads.
 */
export function runTlsHandshake(
  socket: Socket,
  transport: SocketTransport,
  registry: ConnectionRegistry,
  source: TlsSettingsSource,
  rest: Buffer | undefined,
  next: () => void,
): void {
  if (rest !== undefined && rest.length > 0) {
    // The TLS socket reads what its socket holds unread before anything else.
    socket.pause();
    socket.unshift(rest);
  }
  const settings = source.current;
  const tlsSocket = serverTlsSocket(socket, settings);
  transport.switchToTls(tlsSocket);
  watchHandshake(tlsSocket, {
    side: 'server',
    timeout: settings.handshakeTimeout,
    requireVerifiedPeer: settings.requestCert && settings.rejectUnauthorized,
    done: (error) => {
      // Closed by the server meanwhile (closeClients, shutdown): not the peer's failure.
      if (transport.isClosing()) return;
      if (error === undefined) {
        registry.stats.tlsHandshakes++;
        next();
        return;
      }
      registry.stats.tlsHandshakeFailures[error.reason]++;
      transport.abort(error); // reports it, once
    },
  });
}
