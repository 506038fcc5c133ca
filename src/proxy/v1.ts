/**
 * The v1 (text) header, once its CRLF has been found: one US-ASCII line
 *
 *     PROXY TCP4 <src ip> <dst ip> <src port> <dst port>\r\n
 *     PROXY TCP6 <src ip> <dst ip> <src port> <dst port>\r\n
 *     PROXY UNKNOWN[ <anything>]\r\n
 *
 * with exactly one space between fields, addresses of the family the keyword names, and ports
 * 0–65535 without leading zeros. After `UNKNOWN` the rest of the line is ignored, as the spec
 * says. Finding the line end and its 107-byte limit is the dispatcher's job (`parse.ts`).
 */
import { Buffer } from 'node:buffer';
import { ProxyProtocolError } from './errors.js';
import type { InetSocketAddress, ProxyHeader } from './header.js';
import { formatIPv4, formatIPv6, parseIPv4Into, parseIPv6Into } from './ip-address.js';
import { NO_TLVS } from './tlv.js';

/** Longest text quoted in an error message, so a hostile line cannot flood a log. */
const QUOTE_MAX = 48;

/**
 * Parses the line `bytes[0, lineEnd)` (without its CRLF), which starts with `PROXY`.
 * @throws ProxyProtocolError (`syntax` or `address`).
 */
export function parseV1Line(bytes: Uint8Array, lineEnd: number): ProxyHeader {
  const line = latin1(bytes, lineEnd);
  if (line === 'PROXY UNKNOWN' || line.startsWith('PROXY UNKNOWN ')) {
    return {
      version: 1,
      command: 'proxy',
      transport: 'unknown',
      source: undefined,
      destination: undefined,
      tlvs: NO_TLVS,
    };
  }
  const fields = line.split(' ');
  const keyword = fields[1];
  if (keyword !== 'TCP4' && keyword !== 'TCP6') {
    throw new ProxyProtocolError(
      'syntax',
      `v1 protocol must be TCP4, TCP6 or UNKNOWN, got ${quote(keyword ?? '')}`,
    );
  }
  if (fields.length !== 6 || hasEmpty(fields)) {
    throw new ProxyProtocolError(
      'syntax',
      `v1 ${keyword} line needs exactly 4 fields after the protocol, one space apart: ${quote(line)}`,
    );
  }
  const ipv6 = keyword === 'TCP6';
  const sourcePort = parsePort(fields[4]!);
  const destinationPort = parsePort(fields[5]!);
  return {
    version: 1,
    command: 'proxy',
    transport: 'tcp',
    source: address(fields[2]!, sourcePort, ipv6, keyword),
    destination: address(fields[3]!, destinationPort, ipv6, keyword),
    tlvs: NO_TLVS,
  };
}

function hasEmpty(fields: readonly string[]): boolean {
  for (const field of fields) if (field.length === 0) return true;
  return false;
}

/** Where an address's bytes are parsed: one buffer for the module, the text is what is kept. */
const scratch = new Uint8Array(16);

function address(text: string, port: number, ipv6: boolean, keyword: string): InetSocketAddress {
  const bytes = scratch;
  if (ipv6 ? !parseIPv6Into(text, bytes) : !parseIPv4Into(text, bytes)) {
    throw new ProxyProtocolError(
      'address',
      `${quote(text)} is not an ${ipv6 ? 'IPv6' : 'IPv4'} address, as ${keyword} requires`,
    );
  }
  return ipv6
    ? { family: 'IPv6', address: formatIPv6(bytes), port }
    : { family: 'IPv4', address: formatIPv4(bytes), port };
}

/** A decimal port 0–65535 without leading zeros. */
function parsePort(text: string): number {
  let value = 0;
  let valid = text.length <= 5 && (text.length === 1 || text.charCodeAt(0) !== 0x30);
  for (let i = 0; valid && i < text.length; i++) {
    const digit = text.charCodeAt(i) - 0x30;
    valid = digit >= 0 && digit <= 9;
    value = value * 10 + digit;
  }
  if (!valid || value > 0xffff) {
    throw new ProxyProtocolError(
      'address',
      `${quote(text)} is not a port (0-65535, no leading zeros)`,
    );
  }
  return value;
}

function latin1(bytes: Uint8Array, end: number): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, end).toString('latin1');
}

/** A field for an error message: JSON-quoted, cut to `QUOTE_MAX` characters. */
export function quote(text: string): string {
  return JSON.stringify(text.length > QUOTE_MAX ? `${text.slice(0, QUOTE_MAX)}…` : text);
}
