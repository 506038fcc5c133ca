/**
 * Properties of the PROXY protocol code with fast-check: parse(encode(h)) == h for random v1
 * and v2 headers (every transport, random TLVs, with or without a CRC32C) however the bytes are
 * cut and whatever follows; and random or mutated input never throws anything but the typed
 * errors, never buffers past the bound, and gives the same outcome under every split.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { FrameTooLargeError } from '../../src/errors.js';
import {
  decodeProxyTlvs,
  encodeProxyHeader,
  type InetSocketAddress,
  type ProxyHeader,
  ProxyProtocolError,
  type ProxyTlv,
  sslTlv,
  TlvType,
  V2_HARD_MAX_LENGTH,
  V2_SIGNATURE,
} from '../../src/proxy/index.js';
import { formatIPv4, formatIPv6 } from '../../src/proxy/ip-address.js';
import { plain } from './proxy-fixtures.js';
import { describeError, feedChunks } from './proxy-support.js';

const RUNS = 400;

/** `bytes` cut at the given positions (taken modulo its length), as fresh copies. */
function cutAt(bytes: Buffer, seeds: readonly number[]): Buffer[] {
  const cuts = [...new Set(seeds.map((seed) => (bytes.length === 0 ? 0 : seed % bytes.length)))]
    .filter((cut) => cut > 0)
    .sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let from = 0;
  for (const to of [...cuts, bytes.length]) {
    chunks.push(Buffer.from(bytes.subarray(from, to)));
    from = to;
  }
  return chunks;
}

const cutSeeds = fc.array(fc.nat(), { maxLength: 10 });
const port = fc.integer({ min: 0, max: 0xffff });
const ipv4 = fc
  .tuple(fc.uint8Array({ minLength: 4, maxLength: 4 }), port)
  .map(
    ([bytes, p]): InetSocketAddress => ({ family: 'IPv4', address: formatIPv4(bytes), port: p }),
  );
const ipv6Bytes = fc.oneof(
  fc.uint8Array({ minLength: 16, maxLength: 16 }),
  // Zero runs and IPv4-mapped addresses, which the canonical form writes specially.
  fc
    .uint8Array({ minLength: 4, maxLength: 4 })
    .map((tail) => Uint8Array.of(...new Array(10).fill(0), 0xff, 0xff, ...tail)),
  fc
    .array(fc.constantFrom(0, 0, 1, 0xffff), { minLength: 8, maxLength: 8 })
    .map((words) => Uint8Array.from(words.flatMap((word) => [word >> 8, word & 0xff]))),
);
const ipv6 = fc
  .tuple(ipv6Bytes, port)
  .map(
    ([bytes, p]): InetSocketAddress => ({ family: 'IPv6', address: formatIPv6(bytes), port: p }),
  );
const inetPair = fc.oneof(fc.tuple(ipv4, ipv4), fc.tuple(ipv6, ipv6));

const safeText = (maxLength: number) => fc.string({ unit: 'grapheme', maxLength });
const unixPath = fc.oneof(
  fc.constant(''),
  fc.stringMatching(/^\/[a-z0-9._/-]{0,100}$/),
  fc.stringMatching(/^[a-z0-9._-]{1,100}$/).map((name) => `\0${name}`),
);

const registeredTlv: fc.Arbitrary<ProxyTlv> = fc.oneof(
  fc
    .uint8Array({ maxLength: 20 })
    .map((value) => ({ type: TlvType.ALPN, value: Buffer.from(value) })),
  safeText(30).map((text) => ({ type: TlvType.AUTHORITY, value: Buffer.from(text, 'utf8') })),
  fc
    .uint8Array({ maxLength: 128 })
    .map((value) => ({ type: TlvType.UNIQUE_ID, value: Buffer.from(value) })),
  safeText(20).map((text) => ({ type: TlvType.NETNS, value: Buffer.from(text, 'utf8') })),
  fc
    .record(
      {
        client: fc.integer({ min: 0, max: 255 }),
        verify: fc.integer({ min: 0, max: 0xffffffff }),
        version: safeText(10),
        commonName: safeText(30),
        cipher: safeText(30),
        signatureAlgorithm: safeText(12),
        keyAlgorithm: safeText(12),
      },
      { requiredKeys: ['client', 'verify'] },
    )
    .map((init) => sslTlv(init)),
);
const repeatableTlv: fc.Arbitrary<ProxyTlv> = fc
  .tuple(
    fc.oneof(
      fc.constant(TlvType.NOOP),
      fc.integer({ min: 0xe0, max: 0xff }),
      fc.integer({ min: 0x06, max: 0x1f }),
      fc.integer({ min: 0x21, max: 0x2f }),
    ),
    fc.uint8Array({ maxLength: 24 }),
  )
  .map(([type, value]) => ({ type, value: Buffer.from(value) }));
const tlvList = fc
  .tuple(
    fc.uniqueArray(registeredTlv, { selector: (tlv) => tlv.type, maxLength: 5 }),
    fc.array(repeatableTlv, { maxLength: 4 }),
  )
  .chain(([registered, others]) => {
    const all = [...registered, ...others];
    return fc.shuffledSubarray(all, { minLength: all.length, maxLength: all.length });
  });

const NO_TLVS = { raw: [] };
const v1Header: fc.Arbitrary<ProxyHeader> = fc.oneof(
  inetPair.map(
    ([source, destination]): ProxyHeader => ({
      version: 1,
      command: 'proxy',
      transport: 'tcp',
      source,
      destination,
      tlvs: NO_TLVS,
    }),
  ),
  fc.constant<ProxyHeader>({
    version: 1,
    command: 'proxy',
    transport: 'unknown',
    source: undefined,
    destination: undefined,
    tlvs: NO_TLVS,
  }),
);
const v2Header: fc.Arbitrary<ProxyHeader> = fc
  .tuple(
    fc.oneof(
      fc.tuple(fc.constantFrom('tcp' as const, 'udp' as const), inetPair),
      fc.tuple(
        fc.constantFrom('unix-stream' as const, 'unix-dgram' as const),
        fc.tuple(unixPath, unixPath),
      ),
      fc.tuple(fc.constantFrom('proxy' as const, 'local' as const), fc.constant(undefined)),
    ),
    tlvList,
  )
  .map(([[kind, addresses], raw]): ProxyHeader => {
    const tlvs = decodeProxyTlvs(raw);
    if (kind === 'tcp' || kind === 'udp') {
      const [source, destination] = addresses as [InetSocketAddress, InetSocketAddress];
      return { version: 2, command: 'proxy', transport: kind, source, destination, tlvs };
    }
    if (kind === 'unix-stream' || kind === 'unix-dgram') {
      const [source, destination] = addresses as [string, string];
      return {
        version: 2,
        command: 'proxy',
        transport: kind,
        source: { family: 'unix', path: source },
        destination: { family: 'unix', path: destination },
        tlvs,
      };
    }
    return {
      version: 2,
      command: kind,
      transport: 'unknown',
      source: undefined,
      destination: undefined,
      tlvs,
    };
  });
const anyHeader = fc.oneof(v1Header, v2Header);
const options = { maxV2Length: V2_HARD_MAX_LENGTH };

describe('round trip', () => {
  it('parse(encode(h)) == h, however the bytes are cut, with the rest handed back', () => {
    fc.assert(
      fc.property(anyHeader, fc.uint8Array({ maxLength: 40 }), cutSeeds, (header, after, seeds) => {
        const bytes = encodeProxyHeader(header);
        const stream = Buffer.concat([bytes, after]);
        const fed = feedChunks(cutAt(stream, seeds), options);
        assert.ok(fed.header !== undefined);
        assert.deepEqual(plain(fed.header), plain(header));
        assert.deepEqual(fed.rest, Buffer.from(after));
      }),
      { numRuns: RUNS },
    );
  });

  it('with a CRC32C: the same header, plus the verified checksum', () => {
    fc.assert(
      fc.property(v2Header, cutSeeds, (header, seeds) => {
        const bytes = encodeProxyHeader(header, { crc32c: true });
        const fed = feedChunks(cutAt(bytes, seeds), options);
        const raw = fed.header?.tlvs.raw ?? [];
        const last = raw.at(-1);
        assert.equal(last?.type, TlvType.CRC32C);
        assert.equal(fed.header?.tlvs.crc32c, last?.value.readUInt32BE(0));
        const expected = {
          ...header,
          tlvs: {
            ...header.tlvs,
            raw: [...header.tlvs.raw, last],
            crc32c: fed.header?.tlvs.crc32c,
          },
        };
        assert.deepEqual(plain(fed.header), plain(expected));
      }),
      { numRuns: RUNS },
    );
  });

  it('encode(parse(bytes)) == bytes for every encoder output', () => {
    fc.assert(
      fc.property(anyHeader, fc.boolean(), (header, crc) => {
        const encodeOptions = { crc32c: crc && header.version === 2 };
        const bytes = encodeProxyHeader(header, encodeOptions);
        const fed = feedChunks([bytes], options);
        assert.ok(fed.header !== undefined);
        assert.deepEqual(encodeProxyHeader(fed.header), bytes);
      }),
      { numRuns: RUNS },
    );
  });
});

/** The outcome of feeding `chunks`: the header and rest, or the error's description. */
function outcome(chunks: Buffer[]): unknown {
  try {
    const fed = feedChunks(chunks, options);
    return fed.header === undefined
      ? 'incomplete'
      : { header: plain(fed.header), rest: fed.rest.toString('hex') };
  } catch (error) {
    assert.ok(
      error instanceof ProxyProtocolError || error instanceof FrameTooLargeError,
      `untyped error: ${String(error)}`,
    );
    return describeError(error);
  }
}

describe('garbage', () => {
  const V1 = Buffer.from('PROXY ', 'latin1');
  const prefixes = fc.constantFrom(
    Buffer.alloc(0),
    V1,
    Buffer.from('PROXY TCP4 ', 'latin1'),
    Buffer.from('PROXY TCP6 ', 'latin1'),
    Buffer.from(V2_SIGNATURE),
    Buffer.concat([Buffer.from(V2_SIGNATURE), Buffer.of(0x21)]),
    Buffer.concat([Buffer.from(V2_SIGNATURE), Buffer.of(0x21, 0x11, 0x00)]),
  );
  const textish = fc
    .uint8Array({ maxLength: 140 })
    .map((bytes) =>
      Buffer.from(bytes.map((byte) => ' 0123456789abcdef.:\r\nTCPUNKOW'.charCodeAt(byte % 30))),
    );

  it('only ever throws the typed errors, buffers within the bound, and splits do not matter', () => {
    fc.assert(
      fc.property(
        prefixes,
        fc.oneof(fc.uint8Array({ maxLength: 300 }), textish),
        cutSeeds,
        (prefix, tail, seeds) => {
          const bytes = Buffer.concat([prefix, tail]);
          assert.deepEqual(outcome(cutAt(bytes, seeds)), outcome([bytes]));
        },
      ),
      { numRuns: RUNS * 4 },
    );
  });

  it('mutated valid headers: typed errors or a header, the same under every split', () => {
    const mutation = fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), {
      minLength: 1,
      maxLength: 4,
    });
    fc.assert(
      fc.property(
        anyHeader,
        fc.boolean(),
        mutation,
        fc.nat(),
        cutSeeds,
        (header, crc, changes, truncate, seeds) => {
          const bytes = Buffer.from(
            encodeProxyHeader(header, { crc32c: crc && header.version === 2 }),
          );
          for (const [at, value] of changes) bytes[at % bytes.length] = value;
          const input = truncate % 3 === 0 ? bytes.subarray(0, truncate % bytes.length) : bytes;
          assert.deepEqual(
            outcome(cutAt(Buffer.from(input), seeds)),
            outcome([Buffer.from(input)]),
          );
        },
      ),
      { numRuns: RUNS * 2 },
    );
  });
});
