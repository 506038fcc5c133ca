/**
 * The numbers of the PROXY protocol (haproxy's `proxy-protocol.txt`, versions 1 and 2), each
 * with its unit and where it comes from.
 */

/** Longest v1 line in bytes, CRLF included: the spec's worst case, `PROXY UNKNOWN` + two IPv6 + ports. */
export const V1_MAX_LENGTH = 107;

/** The v1 header starts with these five bytes. */
export const V1_SIGNATURE: Uint8Array = Uint8Array.of(0x50, 0x52, 0x4f, 0x58, 0x59); // PROXY

/** The v2 header starts with these twelve bytes (`\r\n\r\n\0\r\nQUIT\n`); note the NUL. */
export const V2_SIGNATURE: Uint8Array = Uint8Array.of(
  0x0d,
  0x0a,
  0x0d,
  0x0a,
  0x00,
  0x0d,
  0x0a,
  0x51,
  0x55,
  0x49,
  0x54,
  0x0a,
);

/** Bytes of the fixed part of a v2 header: signature, version/command, family, length. */
export const V2_FIXED_LENGTH = 16;

/** Largest v2 header the wire format can express, in bytes: the length field is 16 bits. */
export const V2_HARD_MAX_LENGTH = V2_FIXED_LENGTH + 0xffff;

/**
 * Largest v2 header accepted by default, in bytes (fixed part, addresses and TLVs). The spec
 * expects a header to fit one TCP segment (under 536 bytes); 4 KiB leaves room for the SSL,
 * unique-ID (128 bytes) and cloud TLVs seven times over, and bounds what a connection may make
 * the server buffer before the application sees a byte.
 */
export const DEFAULT_V2_MAX_LENGTH = 4096;

/** Bytes of one TLV's type and length fields. */
export const TLV_HEADER_LENGTH = 3;

/** Bytes of the SSL TLV's own fields before its sub-TLVs: `client` (1) and `verify` (4). */
export const SSL_FIXED_LENGTH = 5;

/** Longest UNIQUE_ID value, in bytes (spec 2.2.5). */
export const UNIQUE_ID_MAX_LENGTH = 128;

/** Bytes of one AF_UNIX address in a v2 header: the size of `sun_path`. */
export const UNIX_PATH_LENGTH = 108;

/** Registered TLV types (spec 2.2). */
export const TlvType = {
  ALPN: 0x01,
  AUTHORITY: 0x02,
  CRC32C: 0x03,
  NOOP: 0x04,
  UNIQUE_ID: 0x05,
  SSL: 0x20,
  NETNS: 0x30,
} as const;

/** Sub-TLV types inside the SSL TLV (spec 2.2.6). */
export const SslSubtype = {
  VERSION: 0x21,
  CN: 0x22,
  CIPHER: 0x23,
  SIG_ALG: 0x24,
  KEY_ALG: 0x25,
} as const;

/** Bits of the SSL TLV's `client` field. */
export const SslClientFlag = {
  /** The client connected over SSL/TLS. */
  SSL: 0x01,
  /** The client presented a certificate on this connection. */
  CERT_CONN: 0x02,
  /** The client presented a certificate at least once in this TLS session. */
  CERT_SESS: 0x04,
} as const;
