/**
 * The v2 TLVs (type, 16-bit length, value): splitting the TLV area into a list, and the typed
 * view of the registered types with the spec's rules on each:
 *
 * - ALPN (0x01): bytes. AUTHORITY (0x02), NETNS (0x30): UTF-8 text (invalid UTF-8 is refused:
 *   a name with two readings is how request smuggling starts).
 * - CRC32C (0x03): exactly 4 bytes (the parser checks the sum). NOOP (0x04): ignored.
 * - UNIQUE_ID (0x05): at most 128 bytes.
 * - SSL (0x20): `client` (1 byte), `verify` (4 bytes), then sub-TLVs: VERSION, CN, CIPHER,
 *   SIG_ALG, KEY_ALG (text); unknown sub-TLVs are kept raw.
 * - A registered type (or SSL subtype) present twice is refused; unknown types may repeat.
 */
import { Buffer } from 'node:buffer';
import {
  SSL_FIXED_LENGTH,
  SslClientFlag,
  SslSubtype,
  TLV_HEADER_LENGTH,
  TlvType,
  UNIQUE_ID_MAX_LENGTH,
} from './constants.js';
import { ProxyProtocolError } from './errors.js';
import type { ProxySslInfo, ProxyTlv, ProxyTlvs } from './header.js';

/** The TLVs of a header without any (every v1 header). */
export const NO_TLVS: ProxyTlvs = Object.freeze({ raw: Object.freeze([]) });

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The TLVs in `area`, in order, their values views of it. */
export function splitTlvs(area: Buffer, what = 'TLV'): ProxyTlv[] {
  const list: ProxyTlv[] = [];
  let at = 0;
  while (at < area.length) {
    if (area.length - at < TLV_HEADER_LENGTH) {
      throw new ProxyProtocolError(
        'tlv',
        `${what} at offset ${at} is truncated: ${area.length - at} bytes left, a TLV needs 3`,
      );
    }
    const type = area[at]!;
    const length = (area[at + 1]! << 8) | area[at + 2]!;
    const start = at + TLV_HEADER_LENGTH;
    if (start + length > area.length) {
      throw new ProxyProtocolError(
        'tlv',
        `${what} 0x${hex(type)} declares ${length} bytes but only ${area.length - start} remain`,
      );
    }
    list.push({ type, value: area.subarray(start, start + length) });
    at = start + length;
  }
  return list;
}

/**
 * The typed view of a TLV list (the parser's rules, for a list built by hand too).
 * @throws ProxyProtocolError (`tlv`) for a value of the wrong size or encoding, or a
 * registered type given twice.
 */
export function decodeProxyTlvs(list: readonly ProxyTlv[]): ProxyTlvs {
  // A list built by hand in JavaScript may hold plain Uint8Arrays: view them as Buffers.
  const raw = allBuffers(list) ? list : list.map(asBufferTlv);
  const tlvs: { -readonly [K in keyof ProxyTlvs]: ProxyTlvs[K] } = { raw };
  const seen = new Set<number>();
  for (const { type, value } of raw) {
    if (type === TlvType.NOOP) continue;
    const registered = type in REGISTERED;
    if (registered && seen.has(type)) {
      throw new ProxyProtocolError('tlv', `TLV 0x${hex(type)} (${REGISTERED[type]}) given twice`);
    }
    seen.add(type);
    switch (type) {
      case TlvType.ALPN:
        tlvs.alpn = value;
        break;
      case TlvType.AUTHORITY:
        tlvs.authority = text(value, 'AUTHORITY');
        break;
      case TlvType.CRC32C:
        if (value.length !== 4) {
          throw new ProxyProtocolError('tlv', `CRC32C TLV must hold 4 bytes, not ${value.length}`);
        }
        tlvs.crc32c = value.readUInt32BE(0);
        break;
      case TlvType.UNIQUE_ID:
        if (value.length > UNIQUE_ID_MAX_LENGTH) {
          throw new ProxyProtocolError(
            'tlv',
            `UNIQUE_ID TLV holds ${value.length} bytes, over the limit of ${UNIQUE_ID_MAX_LENGTH}`,
          );
        }
        tlvs.uniqueId = value;
        break;
      case TlvType.SSL:
        tlvs.ssl = decodeSsl(value);
        break;
      case TlvType.NETNS:
        tlvs.netns = text(value, 'NETNS');
        break;
    }
  }
  return tlvs;
}

function allBuffers(list: readonly ProxyTlv[]): boolean {
  for (const tlv of list) if (!Buffer.isBuffer(tlv.value)) return false;
  return true;
}

function asBufferTlv({ type, value }: ProxyTlv): ProxyTlv {
  const bytes: Uint8Array = value;
  return { type, value: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length) };
}

/** Registered types that may appear once, by name (NOOP may repeat). */
const REGISTERED: Readonly<Record<number, string>> = {
  [TlvType.ALPN]: 'ALPN',
  [TlvType.AUTHORITY]: 'AUTHORITY',
  [TlvType.CRC32C]: 'CRC32C',
  [TlvType.UNIQUE_ID]: 'UNIQUE_ID',
  [TlvType.SSL]: 'SSL',
  [TlvType.NETNS]: 'NETNS',
};

const SSL_SUBTYPES: Readonly<Record<number, string>> = {
  [SslSubtype.VERSION]: 'SSL_VERSION',
  [SslSubtype.CN]: 'SSL_CN',
  [SslSubtype.CIPHER]: 'SSL_CIPHER',
  [SslSubtype.SIG_ALG]: 'SSL_SIG_ALG',
  [SslSubtype.KEY_ALG]: 'SSL_KEY_ALG',
};

function decodeSsl(value: Buffer): ProxySslInfo {
  if (value.length < SSL_FIXED_LENGTH) {
    throw new ProxyProtocolError(
      'tlv',
      `SSL TLV must hold at least 5 bytes (client, verify), not ${value.length}`,
    );
  }
  const client = value[0]!;
  const verify = value.readUInt32BE(1);
  const raw = splitTlvs(value.subarray(SSL_FIXED_LENGTH), 'SSL sub-TLV');
  const ssl: { -readonly [K in keyof ProxySslInfo]: ProxySslInfo[K] } = {
    client,
    ssl: (client & SslClientFlag.SSL) !== 0,
    certInConnection: (client & SslClientFlag.CERT_CONN) !== 0,
    certInSession: (client & SslClientFlag.CERT_SESS) !== 0,
    verify,
    verified: verify === 0,
    raw,
  };
  const seen = new Set<number>();
  for (const sub of raw) {
    const name = SSL_SUBTYPES[sub.type];
    if (name === undefined) continue;
    if (seen.has(sub.type)) {
      throw new ProxyProtocolError('tlv', `SSL sub-TLV 0x${hex(sub.type)} (${name}) given twice`);
    }
    seen.add(sub.type);
    const decoded = text(sub.value, name);
    switch (sub.type) {
      case SslSubtype.VERSION:
        ssl.version = decoded;
        break;
      case SslSubtype.CN:
        ssl.commonName = decoded;
        break;
      case SslSubtype.CIPHER:
        ssl.cipher = decoded;
        break;
      case SslSubtype.SIG_ALG:
        ssl.signatureAlgorithm = decoded;
        break;
      case SslSubtype.KEY_ALG:
        ssl.keyAlgorithm = decoded;
        break;
    }
  }
  return ssl;
}

function text(value: Buffer, name: string): string {
  // Most TLV text is ASCII: decoding it in JavaScript saves a call into the strict decoder.
  let ascii = true;
  for (let i = 0; i < value.length && ascii; i++) ascii = value[i]! < 0x80;
  if (ascii) return value.toString('latin1');
  try {
    return utf8.decode(value);
  } catch {
    throw new ProxyProtocolError('tlv', `${name} TLV is not valid UTF-8`);
  }
}

/** Two hex digits, for messages. */
export function hex(byte: number): string {
  return byte.toString(16).padStart(2, '0');
}
