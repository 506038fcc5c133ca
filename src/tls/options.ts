/**
 * TLS options of servers (`createServer({ tls })`, `server.reloadTls`), clients
 * (`createConnection({ tls })`) and upgrades (`startTls`), and the facts TLS adds to
 * `getExtraInfo`. TLS runs on the `net` backend (Node's OpenSSL); see docs/tls.md.
 */
import type { DetailedPeerCertificate } from 'node:tls';

/** PEM text or bytes, or a list of them (a chain, several CAs, several keys). */
export type PemInput = string | Uint8Array | readonly (string | Uint8Array)[];

/** The TLS versions aionet allows at all: 1.0 and 1.1 are broken (RFC 8996). */
export type TlsVersion = 'TLSv1.2' | 'TLSv1.3';

/** A certificate chain and its private key. */
export interface TlsCredentials {
  /** The certificate chain, leaf first (PEM). */
  readonly cert: PemInput;
  /** The private key (PEM). */
  readonly key: PemInput;
  /** The key's passphrase, if it is encrypted. */
  readonly passphrase?: string;
}

/** Settings both sides of a handshake share. */
export interface TlsCommonOptions {
  /** The lowest version accepted. @default 'TLSv1.2' */
  readonly minVersion?: TlsVersion;
  /** The highest version offered. @default 'TLSv1.3' */
  readonly maxVersion?: TlsVersion;
  /** OpenSSL cipher list for TLS 1.2 (TLS 1.3 suites are OpenSSL's). @default Node's default */
  readonly ciphers?: string;
  /**
   * ALPN protocols, most preferred first. A server picks the first of the client's it knows and
   * refuses a client that offers only others (`alpn`); a client offers them.
   * @default none
   */
  readonly ALPNProtocols?: readonly string[];
  /**
   * Milliseconds the handshake may take before the connection is closed (`timeout`). Node's
   * own server default is 120 s, which lets a peer that never finishes hold a socket for two
   * minutes. @default 10000
   */
  readonly handshakeTimeout?: number;
}

/** A server's TLS settings: `createServer(factory, { tls })`, `server.reloadTls(tls)`. */
export interface TlsServerOptions extends TlsCredentials, TlsCommonOptions {
  /** CA certificates that client certificates must chain to (with `requestCert`). */
  readonly ca?: PemInput;
  /** Ask every client for a certificate. @default false */
  readonly requestCert?: boolean;
  /**
   * With `requestCert`: close connections whose client sent no certificate, or one that does not
   * chain to `ca` (`client_certificate`). `false` lets them through; check
   * `getExtraInfo('peerCertificate')` yourself. @default true
   */
  readonly rejectUnauthorized?: boolean;
  /**
   * Other certificates by server name (SNI), e.g. `{ 'api.example.com': { cert, key } }`. A
   * name of the form `*.example.com` matches one label. Clients that name no host, or an
   * unknown one, get the default `cert`. @default none
   */
  readonly sni?: Readonly<Record<string, TlsCredentials>>;
}

/** A client's TLS settings: `createConnection(factory, { tls })`. */
export interface TlsClientOptions extends TlsCommonOptions, Partial<TlsCredentials> {
  /** CA certificates the server's must chain to. @default Node's bundled roots */
  readonly ca?: PemInput;
  /**
   * The name sent as SNI and checked against the server's certificate.
   * @default the `host` connected to, unless it is an IP address
   */
  readonly servername?: string;
  /**
   * Refuse a server whose certificate does not verify (`server_certificate`). Turn off only
   * against a test server with a self-signed certificate. @default true
   */
  readonly rejectUnauthorized?: boolean;
}

/** What `startTls` takes: which side this end plays, and that side's settings. */
export type StartTlsOptions =
  | ({ readonly isServer: true } & TlsServerOptions)
  | ({ readonly isServer?: false } & TlsClientOptions);

/** The cipher a TLS connection uses. */
export interface TlsCipher {
  /** OpenSSL's name, e.g. `TLS_AES_256_GCM_SHA384`. */
  readonly name: string;
  /** The IETF name. */
  readonly standardName: string;
  /** The lowest version it works with, e.g. `TLSv1/SSLv3`. */
  readonly version: string;
}

declare module '../transport.js' {
  interface ExtraInfo {
    /**
     * The peer's certificate (a client certificate on a server) with its issuer chain; absent
     * when the peer sent none, and on plain connections.
     */
    peerCertificate?: DetailedPeerCertificate | undefined;
    /** The ALPN protocol agreed on, e.g. `h2`; absent when none was. */
    alpnProtocol?: string | undefined;
    /** The cipher in use. */
    cipher?: TlsCipher | undefined;
    /** The TLS version in use: `TLSv1.2` or `TLSv1.3`. */
    tlsVersion?: string | undefined;
    /** The server name the client asked for (SNI), on a server. */
    servername?: string | undefined;
  }
}
