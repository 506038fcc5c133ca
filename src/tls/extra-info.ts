/**
 * The TLS facts `getExtraInfo` answers for a connection over a `TLSSocket`: the peer's
 * certificate, the ALPN protocol, the cipher, the version and the SNI name.
 */
import type { TLSSocket } from 'node:tls';
import type { TlsCipher } from './options.js';

/** The names answered here. */
export type TlsInfoName =
  | 'peerCertificate'
  | 'alpnProtocol'
  | 'cipher'
  | 'tlsVersion'
  | 'servername';

/** The value of one TLS fact; `undefined` when the connection has none (no certificate…). */
export function tlsExtraInfo(socket: TLSSocket, name: TlsInfoName): unknown {
  switch (name) {
    case 'peerCertificate': {
      const certificate = socket.getPeerCertificate(true);
      // Node answers `{}` when the peer sent no certificate.
      return certificate !== null && Object.keys(certificate).length > 0 ? certificate : undefined;
    }
    case 'alpnProtocol':
      return typeof socket.alpnProtocol === 'string' ? socket.alpnProtocol : undefined;
    case 'cipher': {
      const cipher = socket.getCipher();
      if (cipher === undefined || cipher === null) return undefined;
      const info: TlsCipher = {
        name: cipher.name,
        standardName: cipher.standardName,
        version: cipher.version,
      };
      return info;
    }
    case 'tlsVersion':
      return socket.getProtocol() ?? undefined;
    case 'servername': {
      const servername = (socket as { servername?: unknown }).servername;
      return typeof servername === 'string' && servername !== '' ? servername : undefined;
    }
  }
}

/** True for the names `tlsExtraInfo` answers. */
export function isTlsInfoName(name: string): name is TlsInfoName {
  return (
    name === 'peerCertificate' ||
    name === 'alpnProtocol' ||
    name === 'cipher' ||
    name === 'tlsVersion' ||
    name === 'servername'
  );
}
