/**
 * Builders of v2 TLVs for `encodeProxyHeader`: each returns one `ProxyTlv` with its value laid
 * out as the spec says, so a test peer or a proxy does not assemble bytes by hand.
 */
import { Buffer } from 'node:buffer';
import { InvalidArgumentError } from '../errors.js';
import { SSL_FIXED_LENGTH, SslSubtype, TLV_HEADER_LENGTH, TlvType } from './constants.js';
import type { ProxyTlv } from './header.js';

/** ALPN (0x01): the protocol id, e.g. `h2`. A string is taken as ASCII/UTF-8. */
export function alpnTlv(protocol: string | Uint8Array): ProxyTlv {
  return { type: TlvType.ALPN, value: bytes(protocol) };
}

/** AUTHORITY (0x02): the host name the client asked for (TLS SNI). */
export function authorityTlv(hostName: string): ProxyTlv {
  return { type: TlvType.AUTHORITY, value: Buffer.from(hostName, 'utf8') };
}

/** CRC32C (0x03): a placeholder the encoder fills with the header's checksum. */
export function crc32cTlv(): ProxyTlv {
  return { type: TlvType.CRC32C, value: Buffer.alloc(4) };
}

/** NOOP (0x04): `length` bytes of padding. @default 0 */
export function noopTlv(length = 0): ProxyTlv {
  return { type: TlvType.NOOP, value: Buffer.alloc(length) };
}

/** UNIQUE_ID (0x05): the proxy's id for the connection, at most 128 bytes. */
export function uniqueIdTlv(id: string | Uint8Array): ProxyTlv {
  return { type: TlvType.UNIQUE_ID, value: bytes(id) };
}

/** NETNS (0x30): the network namespace's name. */
export function netnsTlv(name: string): ProxyTlv {
  return { type: TlvType.NETNS, value: Buffer.from(name, 'utf8') };
}

/** What an SSL TLV says; see `ProxySslInfo` for each field. */
export interface SslTlvInit {
  /** The `client` bit field (`SslClientFlag`). @default 0x01 (SSL) */
  readonly client?: number;
  /** 0 when the client's certificate was verified. @default 0 */
  readonly verify?: number;
  readonly version?: string;
  readonly commonName?: string;
  readonly cipher?: string;
  readonly signatureAlgorithm?: string;
  readonly keyAlgorithm?: string;
  /** More sub-TLVs, appended after the known ones. @default [] */
  readonly extra?: readonly ProxyTlv[];
}

/** SSL (0x20): `client`, `verify`, then the sub-TLVs given, in the order of the spec. */
export function sslTlv(init: SslTlvInit): ProxyTlv {
  const client = init.client ?? 0x01;
  const verify = init.verify ?? 0;
  if (!Number.isInteger(client) || client < 0 || client > 0xff) {
    throw new InvalidArgumentError(`SSL client must be a byte, got ${client}`);
  }
  if (!Number.isInteger(verify) || verify < 0 || verify > 0xffffffff) {
    throw new InvalidArgumentError(`SSL verify must be a 32-bit unsigned integer, got ${verify}`);
  }
  const subs: ProxyTlv[] = [];
  const text = (type: number, value: string | undefined) => {
    if (value !== undefined) subs.push({ type, value: Buffer.from(value, 'utf8') });
  };
  text(SslSubtype.VERSION, init.version);
  text(SslSubtype.CN, init.commonName);
  text(SslSubtype.CIPHER, init.cipher);
  text(SslSubtype.SIG_ALG, init.signatureAlgorithm);
  text(SslSubtype.KEY_ALG, init.keyAlgorithm);
  subs.push(...(init.extra ?? []));
  const size = subs.reduce((sum, sub) => sum + TLV_HEADER_LENGTH + sub.value.length, 0);
  const value = Buffer.alloc(SSL_FIXED_LENGTH + size);
  value[0] = client;
  value.writeUInt32BE(verify, 1);
  let at = SSL_FIXED_LENGTH;
  for (const sub of subs) {
    if (sub.value.length > 0xffff) throw new InvalidArgumentError('SSL sub-TLV over 65535 bytes');
    value[at] = sub.type;
    value.writeUInt16BE(sub.value.length, at + 1);
    value.set(sub.value, at + TLV_HEADER_LENGTH);
    at += TLV_HEADER_LENGTH + sub.value.length;
  }
  return { type: TlvType.SSL, value };
}

function bytes(value: string | Uint8Array): Buffer {
  return typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value);
}
