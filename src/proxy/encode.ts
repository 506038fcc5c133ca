/**
 * `encodeProxyHeader`: a header as bytes, v1 or v2 by `header.version` — for proxies written
 * with aionet and for test peers. It refuses (with `InvalidArgumentError`) exactly what the
 * parser would not read back the same, so `parseProxyHeader(encodeProxyHeader(h))` gives `h`
 * back (addresses in canonical text, TLVs decoded).
 *
 * Any CRC32C TLV in the list gets its value computed; `{ crc32c: true }` appends one if none.
 */
import { Buffer } from 'node:buffer';
import { InvalidArgumentError } from '../errors.js';
import {
  TLV_HEADER_LENGTH,
  TlvType,
  UNIX_PATH_LENGTH,
  V2_FIXED_LENGTH,
  V2_SIGNATURE,
} from './constants.js';
import { crc32c } from './crc32c.js';
import { ProxyProtocolError } from './errors.js';
import type { InetSocketAddress, ProxyHeaderInput, ProxyTlv, UnixSocketAddress } from './header.js';
import { formatIPv4, formatIPv6, parseIPv4Into, parseIPv6Into } from './ip-address.js';
import { decodeProxyTlvs } from './tlv.js';

/** Options of `encodeProxyHeader`. */
export interface ProxyEncodeOptions {
  /** v2 only: append a CRC32C TLV (unless the list has one, which is filled in anyway). @default false */
  readonly crc32c?: boolean;
}

/**
 * The bytes of `header`.
 * @throws InvalidArgumentError for a header the chosen version cannot carry (v1 with LOCAL, UDP,
 * Unix or TLVs), mixed address families, a bad address, port or path, or invalid TLVs.
 */
export function encodeProxyHeader(
  header: ProxyHeaderInput,
  options: ProxyEncodeOptions = {},
): Buffer {
  if (header.version === 1) return encodeV1(header, options);
  if (header.version === 2) return encodeV2(header, options);
  throw new InvalidArgumentError(
    `PROXY protocol version must be 1 or 2, got ${String(header.version)}`,
  );
}

function encodeV1(header: ProxyHeaderInput, options: ProxyEncodeOptions): Buffer {
  if (header.command !== 'proxy') {
    throw new InvalidArgumentError('v1 has no LOCAL command: use v2, or the UNKNOWN transport');
  }
  if ((header.tlvs?.raw.length ?? 0) > 0 || options.crc32c === true) {
    throw new InvalidArgumentError('v1 headers carry no TLVs: use v2');
  }
  if (header.transport === 'unknown') return Buffer.from('PROXY UNKNOWN\r\n', 'latin1');
  if (header.transport !== 'tcp') {
    throw new InvalidArgumentError(`v1 carries TCP only, not ${header.transport}: use v2`);
  }
  const { source, destination } = header;
  const family = sameFamily(source, destination);
  const bytes = new Uint8Array(16);
  const text = (address: InetSocketAddress) => {
    inetBytes(address, bytes, 0);
    return family === 'IPv4' ? formatIPv4(bytes) : formatIPv6(bytes);
  };
  const line = `PROXY ${family === 'IPv4' ? 'TCP4' : 'TCP6'} ${text(source)} ${text(destination)} ${checkPort(source.port)} ${checkPort(destination.port)}\r\n`;
  return Buffer.from(line, 'latin1');
}

function encodeV2(header: ProxyHeaderInput, options: ProxyEncodeOptions): Buffer {
  const list = (header.tlvs?.raw ?? []).map(checkTlv);
  if (options.crc32c === true && !list.some((tlv) => tlv.type === TlvType.CRC32C)) {
    list.push({ type: TlvType.CRC32C, value: Buffer.alloc(4) });
  }
  try {
    decodeProxyTlvs(list);
  } catch (error) {
    if (error instanceof ProxyProtocolError) throw new InvalidArgumentError(error.message);
    throw error;
  }

  let family = 0x00;
  let addressSize = 0;
  if (header.command !== 'proxy' && header.command !== 'local') {
    throw new InvalidArgumentError(
      `command must be 'proxy' or 'local', got ${String(header.command)}`,
    );
  }
  if (header.command === 'local' && header.transport !== 'unknown') {
    throw new InvalidArgumentError(
      "a LOCAL header carries no addresses: its transport is 'unknown'",
    );
  }
  switch (header.transport) {
    case 'unknown':
      break;
    case 'tcp':
    case 'udp': {
      const ipv4 = sameFamily(header.source, header.destination) === 'IPv4';
      family = (ipv4 ? 0x10 : 0x20) | (header.transport === 'tcp' ? 0x01 : 0x02);
      addressSize = ipv4 ? 12 : 36;
      break;
    }
    case 'unix-stream':
    case 'unix-dgram':
      family = header.transport === 'unix-stream' ? 0x31 : 0x32;
      addressSize = 2 * UNIX_PATH_LENGTH;
      break;
    default:
      throw new InvalidArgumentError(
        `unknown transport ${String((header as { transport: unknown }).transport)}`,
      );
  }

  const tlvSize = list.reduce((sum, tlv) => sum + TLV_HEADER_LENGTH + tlv.value.length, 0);
  const length = addressSize + tlvSize;
  if (length > 0xffff) {
    throw new InvalidArgumentError(
      `v2 header body of ${length} bytes exceeds the 65535 the length field holds`,
    );
  }
  const out = Buffer.alloc(V2_FIXED_LENGTH + length);
  out.set(V2_SIGNATURE, 0);
  out[12] = 0x20 | (header.command === 'proxy' ? 1 : 0);
  out[13] = family;
  out.writeUInt16BE(length, 14);

  let at = V2_FIXED_LENGTH;
  if (header.transport === 'tcp' || header.transport === 'udp') {
    const { source, destination } = header;
    const size = addressSize === 12 ? 4 : 16;
    inetBytes(source, out, at);
    inetBytes(destination, out, at + size);
    out.writeUInt16BE(checkPort(source.port), at + 2 * size);
    out.writeUInt16BE(checkPort(destination.port), at + 2 * size + 2);
  } else if (header.transport === 'unix-stream' || header.transport === 'unix-dgram') {
    unixBytes(header.source, out, at);
    unixBytes(header.destination, out, at + UNIX_PATH_LENGTH);
  }
  at += addressSize;

  const checksums: number[] = [];
  for (const { type, value } of list) {
    out[at] = type;
    out.writeUInt16BE(value.length, at + 1);
    at += TLV_HEADER_LENGTH;
    if (type === TlvType.CRC32C)
      checksums.push(at); // left zero until the sum is known
    else out.set(value, at);
    at += value.length;
  }
  // decodeProxyTlvs allowed at most one CRC32C TLV.
  for (const valueAt of checksums) out.writeUInt32BE(crc32c(out), valueAt);
  return out;
}

function sameFamily(source: InetSocketAddress, destination: InetSocketAddress): 'IPv4' | 'IPv6' {
  const family = source?.family;
  if ((family !== 'IPv4' && family !== 'IPv6') || destination?.family !== family) {
    throw new InvalidArgumentError(
      `source and destination must both be IPv4 or both IPv6, got ${String(family)} and ${String(destination?.family)}`,
    );
  }
  return family;
}

function inetBytes(address: InetSocketAddress, out: Uint8Array, at: number): void {
  const ok =
    typeof address.address === 'string' &&
    (address.family === 'IPv4'
      ? parseIPv4Into(address.address, out, at)
      : parseIPv6Into(address.address, out, at));
  if (!ok) {
    throw new InvalidArgumentError(
      `${String(address.address)} is not an ${address.family} address`,
    );
  }
}

function checkPort(port: number): number {
  if (!Number.isInteger(port) || port < 0 || port > 0xffff) {
    throw new InvalidArgumentError(`port must be an integer from 0 to 65535, got ${port}`);
  }
  return port;
}

/** A path as `sun_path`: see `unixPath` in v2.ts for the forms read back. */
function unixBytes(address: UnixSocketAddress, out: Buffer, at: number): void {
  const path = address?.family === 'unix' ? address.path : undefined;
  if (typeof path !== 'string')
    throw new InvalidArgumentError('a Unix header needs unix addresses');
  const bytes = Buffer.from(path, 'utf8');
  const abstract = bytes[0] === 0;
  const nul = bytes.indexOf(0, abstract ? 1 : 0);
  if (bytes.length > UNIX_PATH_LENGTH || nul >= 0 || (abstract && bytes.length === 1)) {
    throw new InvalidArgumentError(
      `unix path must be at most ${UNIX_PATH_LENGTH} UTF-8 bytes with no NUL but a leading one (abstract name), got ${JSON.stringify(path)}`,
    );
  }
  out.set(bytes, at);
}

/** The TLV with its value as a Buffer (a view, not a copy). */
function checkTlv(tlv: ProxyTlv): ProxyTlv {
  if (!Number.isInteger(tlv?.type) || tlv.type < 0 || tlv.type > 0xff) {
    throw new InvalidArgumentError(
      `TLV type must be an integer from 0 to 255, got ${String(tlv?.type)}`,
    );
  }
  if (!(tlv.value instanceof Uint8Array) || tlv.value.length > 0xffff) {
    throw new InvalidArgumentError(
      `TLV 0x${tlv.type.toString(16)} value must be at most 65535 bytes`,
    );
  }
  // Typed as a Buffer, but a plain Uint8Array from JavaScript is welcome too.
  const value: Uint8Array = tlv.value;
  return {
    type: tlv.type,
    value: Buffer.isBuffer(value)
      ? value
      : Buffer.from(value.buffer, value.byteOffset, value.length),
  };
}
