/**
 * Hand-built PROXY protocol headers, byte by byte in hex, each with the header it must parse to.
 * The CRC32C values were computed apart from aionet (a bitwise CRC, not a table), so the parser's
 * checksum is checked against an independent oracle.
 */
import type { ProxyHeader, ProxyTlv } from '../../src/proxy/index.js';

/** Bytes from hex; spaces and `|` (field separators) are ignored. */
export function hex(text: string): Buffer {
  return Buffer.from(text.replace(/[\s|]+/g, ''), 'hex');
}

/** `count` zero bytes, in hex. */
export function zeros(count: number): string {
  return '00'.repeat(count);
}

/** A string's UTF-8 bytes in hex, padded with NULs to `size` bytes. */
export function padded(text: string, size: number): string {
  const bytes = Buffer.from(text, 'utf8');
  return bytes.toString('hex') + zeros(size - bytes.length);
}

/** The v2 signature. */
export const SIG = '0d0a0d0a 000d0a51 5549540a';

export interface Fixture {
  readonly name: string;
  readonly bytes: Buffer;
  readonly header: ProxyHeader;
}

const NO_TLVS = { raw: [] };
const tlv = (type: number, value: string): ProxyTlv => ({ type, value: hex(value) });

/** 192.0.2.1:1234 -> 198.51.100.1:8080, the address block of the IPv4 fixtures. */
const ADDR4 = 'c0000201 | c6336401 | 04d2 | 1f90';
const SRC4 = { family: 'IPv4', address: '192.0.2.1', port: 1234 } as const;
const DST4 = { family: 'IPv4', address: '198.51.100.1', port: 8080 } as const;

export const V1_FIXTURES: readonly Fixture[] = [
  {
    name: 'v1 TCP4 (the spec example)',
    bytes: Buffer.from('PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n', 'latin1'),
    header: {
      version: 1,
      command: 'proxy',
      transport: 'tcp',
      source: { family: 'IPv4', address: '192.168.0.1', port: 56324 },
      destination: { family: 'IPv4', address: '192.168.0.11', port: 443 },
      tlvs: NO_TLVS,
    },
  },
  {
    name: 'v1 TCP4 edge values',
    bytes: Buffer.from('PROXY TCP4 0.0.0.0 255.255.255.255 0 65535\r\n', 'latin1'),
    header: {
      version: 1,
      command: 'proxy',
      transport: 'tcp',
      source: { family: 'IPv4', address: '0.0.0.0', port: 0 },
      destination: { family: 'IPv4', address: '255.255.255.255', port: 65535 },
      tlvs: NO_TLVS,
    },
  },
  {
    name: 'v1 TCP6, upper case and uncompressed, read back canonical',
    bytes: Buffer.from(
      'PROXY TCP6 2001:0DB8:0000:0000:0000:0000:0000:0001 ::FFFF:192.0.2.1 4000 80\r\n',
      'latin1',
    ),
    header: {
      version: 1,
      command: 'proxy',
      transport: 'tcp',
      source: { family: 'IPv6', address: '2001:db8::1', port: 4000 },
      destination: { family: 'IPv6', address: '::ffff:192.0.2.1', port: 80 },
      tlvs: NO_TLVS,
    },
  },
  {
    name: 'v1 TCP6 at the longest (104 bytes)',
    bytes: Buffer.from(
      `PROXY TCP6 ${'ffff:'.repeat(7)}ffff ${'ffff:'.repeat(7)}ffff 65535 65535\r\n`,
      'latin1',
    ),
    header: {
      version: 1,
      command: 'proxy',
      transport: 'tcp',
      source: { family: 'IPv6', address: `${'ffff:'.repeat(7)}ffff`, port: 65535 },
      destination: { family: 'IPv6', address: `${'ffff:'.repeat(7)}ffff`, port: 65535 },
      tlvs: NO_TLVS,
    },
  },
  {
    name: 'v1 UNKNOWN, short form',
    bytes: Buffer.from('PROXY UNKNOWN\r\n', 'latin1'),
    header: {
      version: 1,
      command: 'proxy',
      transport: 'unknown',
      source: undefined,
      destination: undefined,
      tlvs: NO_TLVS,
    },
  },
  {
    name: 'v1 UNKNOWN at the 107-byte limit, the rest ignored',
    bytes: Buffer.from(
      `PROXY UNKNOWN ${'ffff:'.repeat(7)}ffff ${'ffff:'.repeat(7)}ffff 65535 65535\r\n`,
      'latin1',
    ),
    header: {
      version: 1,
      command: 'proxy',
      transport: 'unknown',
      source: undefined,
      destination: undefined,
      tlvs: NO_TLVS,
    },
  },
];

export const V2_FIXTURES: readonly Fixture[] = [
  {
    name: 'v2 PROXY TCP over IPv4',
    bytes: hex(`${SIG} | 21 | 11 | 000c | ${ADDR4}`),
    header: {
      version: 2,
      command: 'proxy',
      transport: 'tcp',
      source: SRC4,
      destination: DST4,
      tlvs: NO_TLVS,
    },
  },
  {
    name: 'v2 PROXY UDP over IPv4',
    bytes: hex(`${SIG} | 21 | 12 | 000c | ${ADDR4}`),
    header: {
      version: 2,
      command: 'proxy',
      transport: 'udp',
      source: SRC4,
      destination: DST4,
      tlvs: NO_TLVS,
    },
  },
  {
    name: 'v2 PROXY TCP over IPv6',
    bytes: hex(
      `${SIG} | 21 | 21 | 0024 | 20010db8 00000000 00000000 00000001 | 20010db8 00000000 00000000 00000002 | 04d2 | 01bb`,
    ),
    header: {
      version: 2,
      command: 'proxy',
      transport: 'tcp',
      source: { family: 'IPv6', address: '2001:db8::1', port: 1234 },
      destination: { family: 'IPv6', address: '2001:db8::2', port: 443 },
      tlvs: NO_TLVS,
    },
  },
  {
    name: 'v2 PROXY UDP over IPv6, an IPv4-mapped source',
    bytes: hex(
      `${SIG} | 21 | 22 | 0024 | 00000000 00000000 0000ffff c0000201 | 00000000 00000000 00000000 00000001 | 0035 | c350`,
    ),
    header: {
      version: 2,
      command: 'proxy',
      transport: 'udp',
      source: { family: 'IPv6', address: '::ffff:192.0.2.1', port: 53 },
      destination: { family: 'IPv6', address: '::1', port: 50000 },
      tlvs: NO_TLVS,
    },
  },
  {
    name: 'v2 PROXY Unix stream: a path and an abstract name',
    bytes: hex(
      `${SIG} | 21 | 31 | 00d8 | ${padded('/run/src.sock', 108)} | 00 ${padded('dst', 107)}`,
    ),
    header: {
      version: 2,
      command: 'proxy',
      transport: 'unix-stream',
      source: { family: 'unix', path: '/run/src.sock' },
      destination: { family: 'unix', path: '\0dst' },
      tlvs: NO_TLVS,
    },
  },
  {
    name: 'v2 PROXY Unix datagram: an unnamed peer and a 108-byte path',
    bytes: hex(`${SIG} | 21 | 32 | 00d8 | ${zeros(108)} | ${padded('/'.padEnd(108, 'p'), 108)}`),
    header: {
      version: 2,
      command: 'proxy',
      transport: 'unix-dgram',
      source: { family: 'unix', path: '' },
      destination: { family: 'unix', path: '/'.padEnd(108, 'p') },
      tlvs: NO_TLVS,
    },
  },
  {
    name: 'v2 LOCAL (a health check)',
    bytes: hex(`${SIG} | 20 | 00 | 0000`),
    header: {
      version: 2,
      command: 'local',
      transport: 'unknown',
      source: undefined,
      destination: undefined,
      tlvs: NO_TLVS,
    },
  },
  {
    name: 'v2 LOCAL with a CRC32C, as haproxy sends its checks',
    bytes: hex(`${SIG} | 20 | 00 | 0007 | 03 0004 a9b87e8f`),
    header: {
      version: 2,
      command: 'local',
      transport: 'unknown',
      source: undefined,
      destination: undefined,
      tlvs: { raw: [tlv(0x03, 'a9b87e8f')], crc32c: 0xa9b87e8f },
    },
  },
  {
    name: 'v2 LOCAL with an IPv4 address block, skipped',
    bytes: hex(`${SIG} | 20 | 11 | 000c | ${ADDR4}`),
    header: {
      version: 2,
      command: 'local',
      transport: 'unknown',
      source: undefined,
      destination: undefined,
      tlvs: NO_TLVS,
    },
  },
  {
    name: 'v2 PROXY AF_UNSPEC with a TLV',
    bytes: hex(`${SIG} | 21 | 00 | 0005 | 02 0002 6869`),
    header: {
      version: 2,
      command: 'proxy',
      transport: 'unknown',
      source: undefined,
      destination: undefined,
      tlvs: { raw: [tlv(0x02, '6869')], authority: 'hi' },
    },
  },
  {
    name: 'v2 PROXY INET with transport UNSPEC: an opaque block',
    bytes: hex(`${SIG} | 21 | 10 | 0008 | 01020304 05060708`),
    header: {
      version: 2,
      command: 'proxy',
      transport: 'unknown',
      source: undefined,
      destination: undefined,
      tlvs: NO_TLVS,
    },
  },
  {
    name: 'v2 PROXY TCP4 with a CRC32C',
    bytes: hex(`${SIG} | 21 | 11 | 0013 | ${ADDR4} | 03 0004 06f2d7e5`),
    header: {
      version: 2,
      command: 'proxy',
      transport: 'tcp',
      source: SRC4,
      destination: DST4,
      tlvs: { raw: [tlv(0x03, '06f2d7e5')], crc32c: 0x06f2d7e5 },
    },
  },
];

/** The SSL TLV of `ALL_TLVS`: client 0x07, verify 0, five known sub-TLVs and one unknown. */
const SSL_VALUE =
  '07 | 00000000 | 21 0007 544c5376312e33 | 22 0008 636c69656e742d31 | ' +
  '23 0016 544c535f4145535f3132385f47434d5f534841323536 | 24 000a 5253412d534841323536 | ' +
  '25 0007 52534132303438 | 26 0002 7878';

/** Every registered TLV, an application one (0xE0), and a CRC32C over them all. */
export const ALL_TLVS: Fixture = {
  name: 'v2 PROXY TCP4 with every TLV type',
  bytes: hex(
    `${SIG} | 21 | 11 | 0091 | ${ADDR4} | 01 0002 6832 | 02 000b 6578616d706c652e636f6d | ` +
      `05 0004 deadbeef | 30 0004 626c7565 | 04 0003 000000 | e0 0002 abcd | 20 004f ${SSL_VALUE} | ` +
      '03 0004 4d6dbdf7',
  ),
  header: {
    version: 2,
    command: 'proxy',
    transport: 'tcp',
    source: SRC4,
    destination: DST4,
    tlvs: {
      raw: [
        tlv(0x01, '6832'),
        tlv(0x02, '6578616d706c652e636f6d'),
        tlv(0x05, 'deadbeef'),
        tlv(0x30, '626c7565'),
        tlv(0x04, '000000'),
        tlv(0xe0, 'abcd'),
        tlv(0x20, SSL_VALUE),
        tlv(0x03, '4d6dbdf7'),
      ],
      alpn: Buffer.from('h2'),
      authority: 'example.com',
      uniqueId: hex('deadbeef'),
      netns: 'blue',
      ssl: {
        client: 7,
        ssl: true,
        certInConnection: true,
        certInSession: true,
        verify: 0,
        verified: true,
        version: 'TLSv1.3',
        commonName: 'client-1',
        cipher: 'TLS_AES_128_GCM_SHA256',
        signatureAlgorithm: 'RSA-SHA256',
        keyAlgorithm: 'RSA2048',
        raw: [
          tlv(0x21, '544c5376312e33'),
          tlv(0x22, '636c69656e742d31'),
          tlv(0x23, '544c535f4145535f3132385f47434d5f534841323536'),
          tlv(0x24, '5253412d534841323536'),
          tlv(0x25, '52534132303438'),
          tlv(0x26, '7878'),
        ],
      },
      crc32c: 0x4d6dbdf7,
    },
  },
};

export const ALL_FIXTURES: readonly Fixture[] = [...V1_FIXTURES, ...V2_FIXTURES, ALL_TLVS];

/**
 * Comparable form of a header: Buffers as hex, keys sorted, so `deepEqual` compares what was
 * said, not how the objects were built.
 */
export function plain(value: unknown): unknown {
  if (value instanceof Uint8Array) return `hex:${Buffer.from(value).toString('hex')}`;
  if (Array.isArray(value)) return value.map(plain);
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).sort(([a], [b]) => a.localeCompare(b));
    return Object.fromEntries(entries.map(([key, item]) => [key, plain(item)]));
  }
  return value;
}
