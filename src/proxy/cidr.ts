/**
 * The trust check of a PROXY listener: is the peer that sent a header one of the proxies allowed
 * to speak for others? A small CIDR matcher for IPv4 and IPv6, pure and allocation-free per
 * lookup after the list is built.
 *
 * Every address is compared as 128 bits: IPv4 as its IPv4-mapped IPv6 form (`::ffff:a.b.c.d`),
 * and an IPv4 network `a.b.c.d/n` as `::ffff:a.b.c.d/(96 + n)`. So `10.0.0.0/8` matches
 * `10.1.2.3` and `::ffff:10.1.2.3` alike (a dual-stack socket reports IPv4 peers the second
 * way), and `::/0` matches every address, IPv4 included.
 *
 * Fails closed: an address that does not parse, a Unix socket peer, or `undefined` is never
 * trusted. A network with host bits set (`10.1.2.3/8`) is refused rather than silently widened.
 */
import { InvalidArgumentError } from '../errors.js';
import type { SocketAddress } from '../transport.js';
import { formatIPv4, formatIPv6, parseIPv4Into, parseIPv6Into } from './ip-address.js';

/** A checked network. */
export interface Cidr {
  readonly family: 'IPv4' | 'IPv6';
  /** The network address in canonical text, e.g. `10.0.0.0`, `2001:db8::`. */
  readonly network: string;
  /** Prefix length: 0–32 for IPv4, 0–128 for IPv6. */
  readonly prefix: number;
}

/** Words per 128-bit value, and per entry (network then mask). */
const WORDS = 4;
const ENTRY = 2 * WORDS;
/** Bits of the `::ffff:0:0/96` prefix in front of an IPv4 address. */
const MAPPED_PREFIX = 96;

/**
 * Parses `a.b.c.d/n` or `x:y::z/n`; a bare address means one host (/32 or /128).
 * @throws InvalidArgumentError for anything else, or host bits set past the prefix.
 */
export function parseCidr(text: string): Cidr {
  return parseEntry(text, new Uint32Array(ENTRY)).cidr;
}

/** A list of trusted networks, checked once, matched many times. */
export class CidrList {
  /** The networks, as given (checked and in canonical form). */
  readonly cidrs: readonly Cidr[];
  readonly #entries: Uint32Array;
  readonly #scratch = new Uint32Array(WORDS);

  /** @throws InvalidArgumentError naming the first bad entry. */
  constructor(cidrs: Iterable<string>) {
    if (typeof cidrs === 'string' || cidrs === null || typeof cidrs !== 'object') {
      throw new InvalidArgumentError('CidrList takes a list of CIDR strings');
    }
    const texts = [...cidrs];
    const entries = new Uint32Array(texts.length * ENTRY);
    this.cidrs = texts.map((text, i) => parseEntry(text, entries.subarray(i * ENTRY)).cidr);
    this.#entries = entries;
  }

  /** True when `address` (text, or a socket address) lies in one of the networks. */
  contains(address: string | SocketAddress | undefined): boolean {
    const words = this.#scratch;
    if (!addressWords(address, words)) return false;
    const entries = this.#entries;
    for (let at = 0; at < entries.length; at += ENTRY) {
      if (
        (words[0]! & entries[at + 4]!) >>> 0 === entries[at]! &&
        (words[1]! & entries[at + 5]!) >>> 0 === entries[at + 1]! &&
        (words[2]! & entries[at + 6]!) >>> 0 === entries[at + 2]! &&
        (words[3]! & entries[at + 7]!) >>> 0 === entries[at + 3]!
      ) {
        return true;
      }
    }
    return false;
  }
}

/**
 * Whether the peer at `address` may send a PROXY header. Give a `CidrList` built once; a list
 * of strings is checked (and parsed) on every call.
 * @throws InvalidArgumentError for a bad CIDR string.
 */
export function isTrusted(
  address: string | SocketAddress | undefined,
  cidrs: CidrList | Iterable<string>,
): boolean {
  const list = cidrs instanceof CidrList ? cidrs : new CidrList(cidrs);
  return list.contains(address);
}

/** Parses one CIDR into `entry` (network words, then mask words). */
function parseEntry(text: string, entry: Uint32Array): { cidr: Cidr } {
  if (typeof text !== 'string') {
    throw new InvalidArgumentError(`a CIDR must be a string, got ${typeof text}`);
  }
  const slash = text.indexOf('/');
  const addressText = slash < 0 ? text : text.slice(0, slash);
  const bytes = new Uint8Array(16);
  let family: 'IPv4' | 'IPv6';
  if (addressText.includes(':')) {
    if (!parseIPv6Into(addressText, bytes)) throw badCidr(text, 'not an IPv6 address');
    family = 'IPv6';
  } else {
    if (!parseIPv4Into(addressText, bytes, 12)) throw badCidr(text, 'not an IPv4 address');
    bytes[10] = 0xff;
    bytes[11] = 0xff;
    family = 'IPv4';
  }
  const bits = family === 'IPv4' ? 32 : 128;
  const prefix = slash < 0 ? bits : parsePrefix(text, text.slice(slash + 1), bits);
  const maskBits = family === 'IPv4' ? MAPPED_PREFIX + prefix : prefix;
  for (let i = 0; i < WORDS; i++) {
    const network =
      ((bytes[4 * i]! << 24) |
        (bytes[4 * i + 1]! << 16) |
        (bytes[4 * i + 2]! << 8) |
        bytes[4 * i + 3]!) >>>
      0;
    const inWord = Math.min(32, Math.max(0, maskBits - 32 * i));
    const mask = inWord === 0 ? 0 : (0xffffffff << (32 - inWord)) >>> 0;
    if ((network & ~mask) >>> 0 !== 0) {
      const shown = family === 'IPv4' ? formatIPv4(bytes, 12) : formatIPv6(bytes);
      throw badCidr(
        text,
        `host bits are set past /${prefix}: write the network address, or ${shown}/${bits} for one host`,
      );
    }
    entry[i] = network;
    entry[WORDS + i] = mask;
  }
  const network = family === 'IPv4' ? formatIPv4(bytes, 12) : formatIPv6(bytes);
  return { cidr: { family, network, prefix } };
}

function parsePrefix(text: string, digits: string, bits: number): number {
  const valid = /^(0|[1-9][0-9]{0,2})$/.test(digits) && Number(digits) <= bits;
  if (!valid) throw badCidr(text, `the prefix length must be a number from 0 to ${bits}`);
  return Number(digits);
}

function badCidr(text: string, why: string): InvalidArgumentError {
  return new InvalidArgumentError(`invalid CIDR ${JSON.stringify(text)}: ${why}`);
}

const scratchBytes = new Uint8Array(16);

/** The 128-bit form of an address into `words`; false when it is not an IP address. */
function addressWords(address: string | SocketAddress | undefined, words: Uint32Array): boolean {
  let text: string;
  if (typeof address === 'string') text = address;
  else if (address !== undefined && address !== null && address.family !== 'unix')
    text = address.address;
  else return false;
  const zone = text.indexOf('%');
  if (zone >= 0) text = text.slice(0, zone); // fe80::1%eth0: the zone does not change the address
  const bytes = scratchBytes;
  if (text.includes(':')) {
    if (!parseIPv6Into(text, bytes)) return false;
  } else {
    bytes.fill(0, 0, 10);
    bytes[10] = 0xff;
    bytes[11] = 0xff;
    if (!parseIPv4Into(text, bytes, 12)) return false;
  }
  for (let i = 0; i < WORDS; i++) {
    words[i] =
      ((bytes[4 * i]! << 24) |
        (bytes[4 * i + 1]! << 16) |
        (bytes[4 * i + 2]! << 8) |
        bytes[4 * i + 3]!) >>>
      0;
  }
  return true;
}
