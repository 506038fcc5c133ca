/**
 * The stages an accepted connection may go through before its protocol starts, in wire order:
 * the PROXY protocol header (sent in clear by the proxy, before anything else), then the TLS
 * handshake. The transport exists from the accept on — the server counts it, limits it, and can
 * close it — but `connectionMade` waits until every stage is done.
 */
import type { Socket } from 'node:net';
import type { ConnectionRegistry } from '../connection-registry.js';
import type { TlsSettingsSource } from '../tls/context.js';
import { type ProxyStageSettings, readProxyHeader } from './proxy-stage.js';
import type { SocketTransport } from './socket-transport.js';
import { runTlsHandshake } from './tls-stage.js';

/** What a server's connections go through before their protocol. */
export interface AcceptStages {
  readonly proxy?: ProxyStageSettings | undefined;
  readonly tls?: TlsSettingsSource | undefined;
}

/** Runs the stages on a freshly accepted `socket`, then starts `transport`'s protocol. */
export function runAcceptStages(
  socket: Socket,
  transport: SocketTransport,
  registry: ConnectionRegistry,
  stages: AcceptStages,
): void {
  transport.watchSocket();
  const { proxy, tls } = stages;
  const start = (rest?: Buffer) => transport.startStaged(rest);
  const secure =
    tls === undefined
      ? start
      : (rest?: Buffer) => runTlsHandshake(socket, transport, registry, tls, rest, () => start());
  if (proxy === undefined) secure();
  else readProxyHeader(socket, transport, registry, proxy, secure);
}
