/**
 * The v2 (binary) header:
 *
 *     12 bytes  signature \r\n\r\n\0\r\nQUIT\n
 *      1 byte   version (high nibble, must be 2) | command (low nibble: 0 LOCAL, 1 PROXY)
 *      1 byte   address family (high: 0 UNSPEC, 1 INET, 2 INET6, 3 UNIX)
 *               | transport (low: 0 UNSPEC, 1 STREAM, 2 DGRAM)
 *      2 bytes  length of the rest, big-endian
 *      then     addresses (12, 36 or 216 bytes for INET, INET6, UNIX; none for 0x00), then TLVs
 *
 * The fixed part is checked byte by byte as it arrives, so a bad signature, version, command or
 * family is refused at the first byte that shows it, and an oversized length as soon as its two
 * bytes are in — before the body is buffered.
 *
 * Choices where the spec leaves room:
 * - LOCAL: the address block is skipped (the spec says to discard it) but its length must still
 *   fit the family; TLVs after it are parsed and a CRC32C is verified.
 * - Family or transport UNSPEC with the other one set (0x01, 0x02, 0x10, 0x20, 0x30): addresses
 *   unknown, and the whole block is opaque (no TLVs: where they start is undefined).
 */

import { Buffer } from 'node:buffer';
import { TlvType, UNIX_PATH_LENGTH, V2_FIXED_LENGTH, V2_SIGNATURE } from './constants.js';
import { CRC32C_INIT, crc32cFinish, crc32cUpdate, crc32cUpdateZeros } from './crc32c.js';
import { ProxyProtocolError } from './errors.js';
import type { ProxyHeader, ProxyTlvs, ProxyTransport, UnixSocketAddress } from './header.js';
import { formatIPv4, formatIPv6 } from './ip-address.js';
import { decodeProxyTlvs, hex, NO_TLVS, splitTlvs } from './tlv.js';

/** Address block size in bytes and transport, per family/transport byte the spec lists. */
const LAYOUTS: ReadonlyMap<number, { readonly size: number; readonly transport: ProxyTransport }> =
  new Map([
    [0x00, { size: 0, transport: 'unknown' }],
    [0x11, { size: 12, transport: 'tcp' }],
    [0x12, { size: 12, transport: 'udp' }],
    [0x21, { size: 36, transport: 'tcp' }],
    [0x22, { size: 36, transport: 'udp' }],
    [0x31, { size: 2 * UNIX_PATH_LENGTH, transport: 'unix-stream' }],
    [0x32, { size: 2 * UNIX_PATH_LENGTH, transport: 'unix-dgram' }],
  ]);

/** The address block size of a family/transport byte; undefined for the opaque UNSPEC mixes. */
export function v2AddressSize(family: number): number | undefined {
  return LAYOUTS.get(family)?.size;
}

/**
 * Checks the first `available` bytes of a v2 header (signature, version, command, family).
 * @returns the header's total length once its length field is in, else undefined.
 * @throws ProxyProtocolError at the first byte that breaks the spec.
 */
export function checkV2Prefix(bytes: Uint8Array, available: number): number | undefined {
  const signatureEnd = Math.min(available, V2_SIGNATURE.length);
  for (let i = 0; i < signatureEnd; i++) {
    if (bytes[i] !== V2_SIGNATURE[i]) {
      throw new ProxyProtocolError(
        'signature',
        `byte ${i} is 0x${hex(bytes[i]!)}: neither the v1 nor the v2 signature`,
      );
    }
  }
  if (available <= 12) return undefined;
  const versionCommand = bytes[12]!;
  if (versionCommand >> 4 !== 2) {
    throw new ProxyProtocolError(
      'version',
      `v2 signature with version ${versionCommand >> 4}; only version 2 exists`,
    );
  }
  if ((versionCommand & 0x0f) > 1) {
    throw new ProxyProtocolError(
      'command',
      `v2 command ${versionCommand & 0x0f} is neither LOCAL (0) nor PROXY (1)`,
    );
  }
  if (available <= 13) return undefined;
  const family = bytes[13]!;
  if (family >> 4 > 3 || (family & 0x0f) > 2) {
    throw new ProxyProtocolError(
      'family',
      `v2 family/transport byte 0x${hex(family)} is not defined`,
    );
  }
  if (available < V2_FIXED_LENGTH) return undefined;
  return V2_FIXED_LENGTH + ((bytes[14]! << 8) | bytes[15]!);
}

/**
 * Decodes a whole v2 header, `bytes[0, total)`, whose prefix `checkV2Prefix` accepted.
 * TLV values are copied out of `bytes`, so the header does not pin the socket's read buffer.
 * @throws ProxyProtocolError (`address`, `tlv`, `checksum`).
 */
export function decodeV2(bytes: Uint8Array, total: number): ProxyHeader {
  const local = (bytes[12]! & 0x0f) === 0;
  const family = bytes[13]!;
  const length = total - V2_FIXED_LENGTH;
  const layout = LAYOUTS.get(family);
  const addressSize = layout?.size ?? length;
  if (length < addressSize) {
    throw new ProxyProtocolError(
      'address',
      `v2 family 0x${hex(family)} needs ${addressSize} address bytes, the header has ${length}`,
    );
  }
  const tlvStart = V2_FIXED_LENGTH + addressSize;
  const tlvs = tlvStart === total ? NO_TLVS : decodeArea(bytes, tlvStart, total);
  const transport = layout?.transport ?? 'unknown';
  if (local || transport === 'unknown') {
    return {
      version: 2,
      command: local ? 'local' : 'proxy',
      transport: 'unknown',
      source: undefined,
      destination: undefined,
      tlvs,
    };
  }
  const at = V2_FIXED_LENGTH;
  switch (transport) {
    case 'tcp':
    case 'udp': {
      if (family >> 4 === 1) {
        return {
          version: 2,
          command: 'proxy',
          transport,
          source: { family: 'IPv4', address: formatIPv4(bytes, at), port: port(bytes, at + 8) },
          destination: {
            family: 'IPv4',
            address: formatIPv4(bytes, at + 4),
            port: port(bytes, at + 10),
          },
          tlvs,
        };
      }
      return {
        version: 2,
        command: 'proxy',
        transport,
        source: { family: 'IPv6', address: formatIPv6(bytes, at), port: port(bytes, at + 32) },
        destination: {
          family: 'IPv6',
          address: formatIPv6(bytes, at + 16),
          port: port(bytes, at + 34),
        },
        tlvs,
      };
    }
    case 'unix-stream':
    case 'unix-dgram':
      return {
        version: 2,
        command: 'proxy',
        transport,
        source: unixPath(bytes, at),
        destination: unixPath(bytes, at + UNIX_PATH_LENGTH),
        tlvs,
      };
  }
}

/** The TLVs of `bytes[tlvStart, total)`, copied out of the input, with the CRC32C verified. */
function decodeArea(bytes: Uint8Array, tlvStart: number, total: number): ProxyTlvs {
  const area = Buffer.from(bytes.subarray(tlvStart, total));
  const raw = splitTlvs(area);
  for (const tlv of raw) {
    if (tlv.type !== TlvType.CRC32C || tlv.value.length !== 4) continue;
    verifyChecksum(bytes, total, tlvStart + (tlv.value.byteOffset - area.byteOffset), tlv.value);
    break; // a second one is refused by decodeProxyTlvs
  }
  return decodeProxyTlvs(raw);
}

/** The spec's check: the CRC32C of the whole header with the checksum's four bytes zeroed. */
function verifyChecksum(bytes: Uint8Array, total: number, valueAt: number, value: Buffer): void {
  let state = crc32cUpdate(CRC32C_INIT, bytes, 0, valueAt);
  state = crc32cUpdateZeros(state, 4);
  state = crc32cUpdate(state, bytes, valueAt + 4, total);
  const computed = crc32cFinish(state);
  const received = value.readUInt32BE(0);
  if (computed !== received) {
    throw new ProxyProtocolError(
      'checksum',
      `CRC32C mismatch: the header says 0x${received.toString(16).padStart(8, '0')}, its bytes give 0x${computed.toString(16).padStart(8, '0')}`,
    );
  }
}

function port(bytes: Uint8Array, at: number): number {
  return (bytes[at]! << 8) | bytes[at + 1]!;
}

const decoder = new TextDecoder('utf-8', { ignoreBOM: true });

/**
 * A `sun_path` field: a C string up to its first NUL; or, when it starts with a NUL, Linux's
 * abstract name (`'\0' + name`, trailing NULs dropped); all zeros is an unnamed socket (`''`).
 * Bytes that are not UTF-8 read as U+FFFD.
 */
function unixPath(bytes: Uint8Array, at: number): UnixSocketAddress {
  const field = bytes.subarray(at, at + UNIX_PATH_LENGTH);
  if (field[0] !== 0) {
    const end = field.indexOf(0);
    return {
      family: 'unix',
      path: decoder.decode(field.subarray(0, end < 0 ? field.length : end)),
    };
  }
  let last = field.length - 1;
  while (last > 0 && field[last] === 0) last--;
  return {
    family: 'unix',
    path: last === 0 ? '' : `\0${decoder.decode(field.subarray(1, last + 1))}`,
  };
}
