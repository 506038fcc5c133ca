/**
 * What a PROXY protocol header says: the `ProxyHeader` a parser returns and an encoder takes,
 * and the typed view of the v2 TLVs. Types only, plus one helper that picks the addresses a
 * server should believe.
 */
import type { SocketAddress } from '../transport.js';

/** `proxy`: relayed on behalf of a client. `local`: the proxy's own connection (a health check). */
export type ProxyCommand = 'proxy' | 'local';

/**
 * The relayed connection's transport. `unknown` for v1 `UNKNOWN`, v2 `AF_UNSPEC` or `UNSPEC`,
 * and every `local` header: the addresses are then unknown and the real socket's are used.
 */
export type ProxyTransport = 'tcp' | 'udp' | 'unix-stream' | 'unix-dgram' | 'unknown';

/** An IPv4 or IPv6 address with a port. */
export type InetSocketAddress = Extract<SocketAddress, { family: 'IPv4' | 'IPv6' }>;

/** A Unix socket path (`''` for an unnamed socket, a leading `\0` for Linux's abstract names). */
export type UnixSocketAddress = Extract<SocketAddress, { family: 'unix' }>;

/** One TLV as it was on the wire. */
export interface ProxyTlv {
  /** 0–255. Registered types are in `TlvType`; 0xE0–0xEF are for applications. */
  readonly type: number;
  readonly value: Buffer;
}

/** The SSL TLV (0x20): what the proxy knows of the client's TLS session. */
export interface ProxySslInfo {
  /** The `client` bit field as sent (see `SslClientFlag`). */
  readonly client: number;
  /** The client connected over SSL/TLS (`client & 0x01`). */
  readonly ssl: boolean;
  /** The client presented a certificate on this connection (`client & 0x02`). */
  readonly certInConnection: boolean;
  /** The client presented a certificate at least once in this TLS session (`client & 0x04`). */
  readonly certInSession: boolean;
  /** The `verify` field as sent: 0 when the client's certificate was presented and verified. */
  readonly verify: number;
  /** `verify === 0`. */
  readonly verified: boolean;
  /** TLS version, e.g. `TLSv1.3` (sub-TLV 0x21). */
  readonly version?: string;
  /** Common Name of the client certificate's subject (sub-TLV 0x22). */
  readonly commonName?: string;
  /** Cipher name, e.g. `ECDHE-RSA-AES128-GCM-SHA256` (sub-TLV 0x23). */
  readonly cipher?: string;
  /** Signature algorithm of the proxy's certificate, e.g. `RSA-SHA256` (sub-TLV 0x24). */
  readonly signatureAlgorithm?: string;
  /** Key algorithm of the proxy's certificate, e.g. `RSA2048` (sub-TLV 0x25). */
  readonly keyAlgorithm?: string;
  /** Every sub-TLV as sent, in order, known ones included. */
  readonly raw: readonly ProxyTlv[];
}

/**
 * The TLVs of a v2 header: a typed view of the registered ones, and every TLV as sent. A
 * registered type given twice is an error, so each field has one meaning. NOOP has no field.
 */
export interface ProxyTlvs {
  /** ALPN protocol id (0x01), e.g. `h2`, as bytes. */
  readonly alpn?: Buffer;
  /** The host name the client asked for (0x02): TLS SNI, or another authority. UTF-8. */
  readonly authority?: string;
  /** The CRC32C checksum the header carried (0x03); it was verified. */
  readonly crc32c?: number;
  /** The proxy's id for the connection (0x05), at most 128 bytes. */
  readonly uniqueId?: Buffer;
  /** The client's TLS session (0x20). */
  readonly ssl?: ProxySslInfo;
  /** Name of the network namespace (0x30). */
  readonly netns?: string;
  /** Every TLV as sent, in order, registered and unknown ones alike. */
  readonly raw: readonly ProxyTlv[];
}

interface HeaderBase {
  /** 1 for the text format, 2 for the binary one. */
  readonly version: 1 | 2;
  /** Always `{ raw: [] }` for v1, which has no TLVs. */
  readonly tlvs: ProxyTlvs;
}

/** A relayed TCP or UDP connection. Source and destination have the same family. */
export interface ProxyInetHeader extends HeaderBase {
  readonly command: 'proxy';
  readonly transport: 'tcp' | 'udp';
  readonly source: InetSocketAddress;
  readonly destination: InetSocketAddress;
}

/** A relayed Unix socket connection (v2 only). */
export interface ProxyUnixHeader extends HeaderBase {
  readonly command: 'proxy';
  readonly transport: 'unix-stream' | 'unix-dgram';
  readonly source: UnixSocketAddress;
  readonly destination: UnixSocketAddress;
}

/** A header without usable addresses: LOCAL, v1 UNKNOWN, v2 UNSPEC. Use the real socket's. */
export interface ProxyUnknownHeader extends HeaderBase {
  readonly command: ProxyCommand;
  readonly transport: 'unknown';
  readonly source: undefined;
  readonly destination: undefined;
}

/** A parsed PROXY protocol header. Check `transport !== 'unknown'` before using the addresses. */
export type ProxyHeader = ProxyInetHeader | ProxyUnixHeader | ProxyUnknownHeader;

/** The TLVs the encoder takes: the raw list (the typed fields, if any, are ignored). */
export type ProxyTlvsInput = Pick<ProxyTlvs, 'raw'>;

/**
 * What the encoder takes: a `ProxyHeader`, whose `tlvs` may be left out or given as a raw list
 * only. A parsed header is a valid input.
 */
export type ProxyHeaderInput = ProxyHeader extends infer H
  ? H extends ProxyHeader
    ? Omit<H, 'tlvs'> & { readonly tlvs?: ProxyTlvsInput }
    : never
  : never;

/**
 * The addresses a server should believe for a connection: the header's when it carries them,
 * else the real socket's (`peername` as the source, `sockname` as the destination), as the spec
 * says for LOCAL, UNKNOWN and UNSPEC.
 */
export function proxiedAddresses(
  header: ProxyHeader,
  real: {
    readonly peername: SocketAddress | undefined;
    readonly sockname: SocketAddress | undefined;
  },
): { readonly source: SocketAddress | undefined; readonly destination: SocketAddress | undefined } {
  if (header.transport === 'unknown') {
    return { source: real.peername, destination: real.sockname };
  }
  return { source: header.source, destination: header.destination };
}
