/**
 * The PROXY header encoder: it writes the hand-built fixtures byte for byte, computes CRC32C
 * TLVs, builds TLVs with the helpers, and refuses (InvalidArgumentError) every header the chosen
 * version cannot carry or the parser would not read back the same.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidArgumentError } from '../../src/errors.js';
import {
  alpnTlv,
  authorityTlv,
  crc32cTlv,
  encodeProxyHeader,
  netnsTlv,
  noopTlv,
  type ProxyHeaderInput,
  parseProxyHeader,
  sslTlv,
  uniqueIdTlv,
} from '../../src/proxy/index.js';
import { ALL_FIXTURES, ALL_TLVS, hex, plain, SIG } from './proxy-fixtures.js';
import { thrown } from './proxy-support.js';

/** Fixtures whose bytes are the encoder's own choices (canonical text, no opaque blocks). */
const EXACT = ALL_FIXTURES.filter(
  (fixture) => !/upper case|107-byte|address block, skipped|opaque/.test(fixture.name),
);

const SRC = { family: 'IPv4', address: '192.0.2.1', port: 1234 } as const;
const DST = { family: 'IPv4', address: '198.51.100.1', port: 8080 } as const;

function refuses(header: unknown, pattern: RegExp, options = {}): void {
  const error = thrown(() => encodeProxyHeader(header as ProxyHeaderInput, options));
  assert.ok(error instanceof InvalidArgumentError, String(error));
  assert.match(error.message, pattern);
}

describe('encodeProxyHeader: the fixtures', () => {
  for (const fixture of EXACT) {
    it(`writes ${fixture.name}`, () => {
      assert.equal(
        encodeProxyHeader(fixture.header).toString('hex'),
        fixture.bytes.toString('hex'),
      );
    });
  }

  it('covers most fixtures exactly', () => {
    assert.ok(EXACT.length >= ALL_FIXTURES.length - 4);
  });

  it('writes the other fixtures in canonical form, which parse to the same header', () => {
    for (const fixture of ALL_FIXTURES) {
      const result = parseProxyHeader(encodeProxyHeader(fixture.header));
      assert.ok(result.complete, fixture.name);
      assert.deepEqual(plain(result.header), plain(fixture.header), fixture.name);
    }
  });
});

describe('TLV builders', () => {
  it('lay out every TLV as the fixture has it', () => {
    const bytes = encodeProxyHeader({
      version: 2,
      command: 'proxy',
      transport: 'tcp',
      source: SRC,
      destination: DST,
      tlvs: {
        raw: [
          alpnTlv('h2'),
          authorityTlv('example.com'),
          uniqueIdTlv(hex('deadbeef')),
          netnsTlv('blue'),
          noopTlv(3),
          { type: 0xe0, value: hex('abcd') },
          sslTlv({
            client: 7,
            version: 'TLSv1.3',
            commonName: 'client-1',
            cipher: 'TLS_AES_128_GCM_SHA256',
            signatureAlgorithm: 'RSA-SHA256',
            keyAlgorithm: 'RSA2048',
            extra: [{ type: 0x26, value: Buffer.from('xx') }],
          }),
          crc32cTlv(),
        ],
      },
    });
    assert.equal(bytes.toString('hex'), ALL_TLVS.bytes.toString('hex'));
  });

  it('appends a CRC32C TLV on request', () => {
    const bytes = encodeProxyHeader(
      { version: 2, command: 'proxy', transport: 'tcp', source: SRC, destination: DST },
      { crc32c: true },
    );
    assert.equal(
      bytes.toString('hex'),
      hex(`${SIG} 21 11 0013 c0000201 c6336401 04d2 1f90 03 0004 06f2d7e5`).toString('hex'),
    );
  });

  it('fills a CRC32C already in the list instead of adding one', () => {
    const bytes = encodeProxyHeader(
      {
        version: 2,
        command: 'local',
        transport: 'unknown',
        source: undefined,
        destination: undefined,
        tlvs: { raw: [crc32cTlv()] },
      },
      { crc32c: true },
    );
    assert.equal(bytes.toString('hex'), hex(`${SIG} 20 00 0007 03 0004 a9b87e8f`).toString('hex'));
  });

  it('refuses SSL fields out of range', () => {
    assert.ok(thrown(() => sslTlv({ client: 256 })) instanceof InvalidArgumentError);
    assert.ok(thrown(() => sslTlv({ verify: -1 })) instanceof InvalidArgumentError);
    assert.ok(thrown(() => sslTlv({ verify: 2 ** 32 })) instanceof InvalidArgumentError);
  });
});

describe('encodeProxyHeader: refusals', () => {
  const tcp4 = { version: 2, command: 'proxy', transport: 'tcp', source: SRC, destination: DST };
  const v1 = { ...tcp4, version: 1 };
  const unknown = {
    version: 2,
    command: 'proxy',
    transport: 'unknown',
    source: undefined,
    destination: undefined,
  };

  it('refuses an unknown version', () => {
    refuses({ ...tcp4, version: 3 }, /version must be 1 or 2/);
  });

  it('refuses what v1 cannot carry: LOCAL, UDP, Unix, TLVs', () => {
    refuses({ ...unknown, version: 1, command: 'local' }, /v1 has no LOCAL/);
    refuses({ ...v1, transport: 'udp' }, /TCP only/);
    refuses(
      {
        ...v1,
        transport: 'unix-stream',
        source: { family: 'unix', path: '/a' },
        destination: { family: 'unix', path: '/b' },
      },
      /TCP only/,
    );
    refuses({ ...v1, tlvs: { raw: [alpnTlv('h2')] } }, /no TLVs/);
    refuses(v1, /no TLVs/, { crc32c: true });
  });

  it('refuses mixed families and bad addresses or ports', () => {
    const six = { family: 'IPv6', address: '::1', port: 1 };
    for (const header of [tcp4, v1]) {
      refuses({ ...header, destination: six }, /both be IPv4 or both IPv6/);
      refuses({ ...header, source: { ...SRC, address: '::1' } }, /not an IPv4 address/);
      refuses({ ...header, source: { ...SRC, address: '1.2.3.04' } }, /not an IPv4 address/);
      refuses(
        { ...header, source: six, destination: { ...six, address: 'fe80::1%eth0' } },
        /not an IPv6 address/,
      );
      refuses({ ...header, source: { ...SRC, port: 65536 } }, /port must be/);
      refuses({ ...header, source: { ...SRC, port: 1.5 } }, /port must be/);
    }
  });

  it('refuses LOCAL with addresses, and unknown commands or transports', () => {
    refuses({ ...tcp4, command: 'local' }, /LOCAL header carries no addresses/);
    refuses({ ...tcp4, command: 'relay' }, /command must be/);
    refuses({ ...tcp4, transport: 'sctp' }, /unknown transport/);
  });

  it('refuses Unix paths it could not read back', () => {
    const unix = (path: string) => ({
      ...unknown,
      transport: 'unix-stream',
      source: { family: 'unix', path },
      destination: { family: 'unix', path: '/ok' },
    });
    refuses(unix('/'.padEnd(109, 'x')), /at most 108/);
    refuses(unix('/a\0b'), /no NUL/);
    refuses(unix('\0'), /no NUL/);
    refuses(unix('\0a\0'), /no NUL/);
    assert.ok(encodeProxyHeader(unix('\0abstract') as ProxyHeaderInput).length > 0);
  });

  it('refuses TLVs the parser would refuse', () => {
    refuses({ ...tcp4, tlvs: { raw: [alpnTlv('a'), alpnTlv('b')] } }, /given twice/);
    refuses({ ...tcp4, tlvs: { raw: [uniqueIdTlv(Buffer.alloc(129))] } }, /UNIQUE_ID/);
    refuses(
      { ...tcp4, tlvs: { raw: [{ type: 3, value: Buffer.alloc(2) }] } },
      /CRC32C TLV must hold 4/,
    );
    refuses({ ...tcp4, tlvs: { raw: [{ type: 2, value: hex('ff') }] } }, /not valid UTF-8/);
    refuses({ ...tcp4, tlvs: { raw: [{ type: 256, value: Buffer.alloc(0) }] } }, /type must be/);
    refuses(
      { ...tcp4, tlvs: { raw: [{ type: 0xe0, value: Buffer.alloc(0x10000) }] } },
      /at most 65535/,
    );
  });

  it('refuses a body over the 65535 bytes the length field holds', () => {
    const big = { type: 0xe0, value: Buffer.alloc(0xffff - 3) };
    refuses({ ...tcp4, tlvs: { raw: [big] } }, /exceeds the 65535/);
    const fits = encodeProxyHeader({ ...unknown, tlvs: { raw: [big] } } as ProxyHeaderInput);
    assert.equal(fits.length, 16 + 0xffff);
  });
});
