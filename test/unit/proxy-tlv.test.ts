/**
 * The v2 TLVs at the byte level: each registered type decoded and typed, unknown ones kept raw,
 * every way a TLV can be malformed (truncated header, overrunning length, wrong fixed sizes,
 * duplicates, bad UTF-8), and the CRC32C TLV: verified, and refused when any bit it covers
 * changes.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  decodeProxyTlvs,
  ProxyProtocolError,
  parseProxyHeader,
  TlvType,
  UNIQUE_ID_MAX_LENGTH,
} from '../../src/proxy/index.js';
import { ALL_TLVS, hex, plain, SIG } from './proxy-fixtures.js';
import { describeError, thrown } from './proxy-support.js';

/** A v2 PROXY TCP4 header whose TLV area is `tlvs` (hex). */
function withTlvs(tlvs: string): Buffer {
  const area = hex(tlvs);
  const length = (12 + area.length).toString(16).padStart(4, '0');
  return Buffer.concat([hex(`${SIG} 21 11 ${length} c0000201 c6336401 04d2 1f90`), area]);
}

function tlvsOf(tlvs: string) {
  const result = parseProxyHeader(withTlvs(tlvs));
  assert.ok(result.complete);
  return result.header.tlvs;
}

function refused(tlvs: string, reason = 'tlv'): string {
  const error = thrown(() => parseProxyHeader(withTlvs(tlvs)));
  assert.ok(error instanceof ProxyProtocolError, String(error));
  assert.equal(describeError(error).reason, reason, error.message);
  return error.message;
}

describe('registered TLVs', () => {
  it('types ALPN, AUTHORITY, UNIQUE_ID and NETNS', () => {
    const tlvs = tlvsOf(
      '01 0008 68747470 2f312e31 | 02 0009 c3a97861 6d706c65 2e | 05 0000 | 30 0000',
    );
    assert.equal(tlvs.alpn?.toString(), 'http/1.1');
    assert.equal(tlvs.authority, 'éxample.');
    assert.deepEqual(tlvs.uniqueId, Buffer.alloc(0));
    assert.equal(tlvs.netns, '');
    assert.equal(tlvs.raw.length, 4);
  });

  it('types the SSL TLV: flags, verify, and each sub-TLV', () => {
    const ssl = tlvsOf('20 0005 00 00000001').ssl;
    assert.deepEqual(plain(ssl), {
      certInConnection: false,
      certInSession: false,
      client: 0,
      raw: [],
      ssl: false,
      verified: false,
      verify: 1,
    });
    const flags = tlvsOf('20 0005 06 00000000').ssl;
    assert.deepEqual(
      [flags?.ssl, flags?.certInConnection, flags?.certInSession, flags?.verified],
      [false, true, true, true],
    );
  });

  it('keeps unknown and application TLVs raw, repeats allowed, in order', () => {
    const tlvs = tlvsOf('e0 0001 01 | f0 0000 | e0 0001 02 | 04 0000 | 04 0001 ff');
    assert.deepEqual(
      tlvs.raw.map((tlv) => [tlv.type, tlv.value.toString('hex')]),
      [
        [0xe0, '01'],
        [0xf0, ''],
        [0xe0, '02'],
        [0x04, ''],
        [0x04, 'ff'],
      ],
    );
    assert.deepEqual(Object.keys(tlvs), ['raw']);
  });

  it('allows a UNIQUE_ID of 128 bytes, refuses 129', () => {
    const id = (n: number) => `05 ${n.toString(16).padStart(4, '0')} ${'ab'.repeat(n)}`;
    assert.equal(tlvsOf(id(UNIQUE_ID_MAX_LENGTH)).uniqueId?.length, 128);
    assert.match(refused(id(UNIQUE_ID_MAX_LENGTH + 1)), /UNIQUE_ID/);
  });
});

describe('malformed TLVs', () => {
  it('refuses a TLV header cut short (1 or 2 bytes left)', () => {
    assert.match(refused('e0'), /truncated/);
    assert.match(refused('e0 00'), /truncated/);
    assert.match(refused('e0 0000 | 01 00'), /truncated/);
  });

  it('refuses a length that runs past the header', () => {
    assert.match(refused('e0 0002 ab'), /declares 2 bytes but only 1 remain/);
    assert.match(refused('01 ffff 00'), /declares 65535/);
  });

  it('refuses a CRC32C of any length but 4', () => {
    for (const value of ['', '00', '000000', '0000000000']) {
      const length = (value.length / 2).toString(16).padStart(4, '0');
      assert.match(refused(`03 ${length} ${value}`), /CRC32C TLV must hold 4 bytes/);
    }
  });

  it('refuses an SSL TLV shorter than its 5 fixed bytes, or with bad sub-TLVs', () => {
    assert.match(refused('20 0004 01 000000'), /SSL TLV must hold at least 5/);
    assert.match(refused('20 0007 01 00000000 21 00'), /SSL sub-TLV at offset 0 is truncated/);
    assert.match(refused('20 0008 01 00000000 21 0001'), /SSL sub-TLV 0x21 declares 1/);
    assert.match(refused('20 000b 01 00000000 22 0000 22 0000'), /SSL_CN\) given twice/);
    assert.match(refused('20 0009 01 00000000 23 0001 ff'), /SSL_CIPHER TLV is not valid UTF-8/);
  });

  it('refuses a registered type given twice', () => {
    for (const type of ['01', '02', '05', '30']) {
      assert.match(refused(`${type} 0000 | ${type} 0000`), /given twice/);
    }
    assert.match(refused('20 0005 0100000000 | 20 0005 0100000000'), /SSL\) given twice/);
  });

  it('refuses AUTHORITY or NETNS that is not UTF-8', () => {
    assert.match(refused('02 0002 c328'), /AUTHORITY TLV is not valid UTF-8/);
    assert.match(refused('30 0001 ff'), /NETNS TLV is not valid UTF-8/);
  });

  it('applies the same rules to a list built by hand', () => {
    const error = thrown(() => decodeProxyTlvs([{ type: TlvType.CRC32C, value: Buffer.alloc(3) }]));
    assert.ok(error instanceof ProxyProtocolError && error.reason === 'tlv');
  });
});

describe('CRC32C TLV', () => {
  it('verifies a correct checksum (computed apart from aionet)', () => {
    const result = parseProxyHeader(ALL_TLVS.bytes);
    assert.ok(result.complete);
    assert.equal(result.header.tlvs.crc32c, 0x4d6dbdf7);
  });

  it('refuses the header when any bit after the fixed part changes, unless it hides the CRC', () => {
    const good = ALL_TLVS.bytes;
    const crcAt = good.length - 4;
    const accepted: number[] = [];
    for (let at = 16; at < good.length; at++) {
      for (const bit of [0x01, 0x80]) {
        const bytes = Buffer.from(good);
        bytes[at]! ^= bit;
        let error: unknown;
        try {
          const result = parseProxyHeader(bytes);
          // The format's blind spot: a flip that makes the CRC32C TLV itself vanish (its type
          // byte, or a length that swallows it) leaves nothing to verify.
          assert.ok(result.complete && result.header.tlvs.crc32c === undefined, `byte ${at}`);
          accepted.push(at);
          continue;
        } catch (caught) {
          error = caught;
        }
        assert.ok(error instanceof ProxyProtocolError, `byte ${at}: ${String(error)}`);
        // A flip inside the TLV structure may show as a malformed TLV first.
        if (at >= crcAt || at < 28) assert.equal(error.reason, 'checksum', `byte ${at}`);
      }
    }
    // The ALPN length's high bit (it then covers every later TLV) and the CRC TLV's type byte.
    assert.deepEqual(accepted, [30, crcAt - 3]);
  });

  it('refuses a changed family byte that still parses (the checksum covers the fixed part)', () => {
    const bytes = Buffer.from(ALL_TLVS.bytes);
    bytes[13] = 0x12; // UDP instead of TCP
    const error = thrown(() => parseProxyHeader(bytes));
    assert.ok(error instanceof ProxyProtocolError && error.reason === 'checksum');
  });

  it('says what it expected and what it computed', () => {
    const bytes = Buffer.from(ALL_TLVS.bytes);
    bytes.writeUInt32BE(0x01020304, bytes.length - 4);
    assert.match(
      (thrown(() => parseProxyHeader(bytes)) as Error).message,
      /header says 0x01020304, its bytes give 0x4d6dbdf7/,
    );
  });
});

describe('decodeProxyTlvs', () => {
  it('takes plain Uint8Array values from JavaScript callers', () => {
    const tlvs = decodeProxyTlvs([
      { type: TlvType.AUTHORITY, value: new TextEncoder().encode('example.com') as Buffer },
      { type: TlvType.CRC32C, value: Uint8Array.of(0, 0, 1, 0) as Buffer },
    ]);
    assert.equal(tlvs.authority, 'example.com');
    assert.equal(tlvs.crc32c, 256);
    assert.ok(tlvs.raw.every((tlv) => Buffer.isBuffer(tlv.value)));
  });
});
