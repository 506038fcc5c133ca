/**
 * Headers the PROXY parsers must refuse, each with the typed error and reason it must give, the
 * same under every split of the input: wrong signatures, malformed v1 lines, the 107-byte v1
 * limit at its exact edge, bad v2 version/command/family bytes, address blocks too short for
 * their family, and v2 lengths over the bound (seen before the body is buffered).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FrameInvalidError, FrameTooLargeError } from '../../src/errors.js';
import {
  DEFAULT_V2_MAX_LENGTH,
  ProxyHeaderParser,
  ProxyProtocolError,
  parseProxyHeader,
  V1_MAX_LENGTH,
} from '../../src/proxy/index.js';
import { everySplit } from '../../src/testing/splits.js';
import { hex, SIG, zeros } from './proxy-fixtures.js';
import { describeError, feedChunks, thrown } from './proxy-support.js';

const latin1 = (text: string) => Buffer.from(text, 'latin1');

/** Asserts `bytes` fails with `expected`, whole and under every split, and stays failed. */
function assertRefused(bytes: Buffer, expected: Record<string, unknown>): void {
  const whole = describeError(thrown(() => parseProxyHeader(bytes)));
  assert.deepEqual(whole, { ...whole, ...expected });
  for (const split of everySplit(bytes, { limit: 300, random: 8 })) {
    const error = thrown(() => feedChunks(split.chunks));
    assert.deepEqual(describeError(error), whole, split.label);
  }
}

const invalid = (reason: string) => ({
  name: 'ProxyProtocolError',
  code: 'ERR_AIONET_FRAME_INVALID',
  reason,
});
const tooLarge = (limit: number) => ({
  name: 'FrameTooLargeError',
  code: 'ERR_AIONET_FRAME_TOO_LARGE',
  limit,
});

describe('signatures', () => {
  it('refuses the first byte of anything else at once', () => {
    for (const text of ['GET / HTTP/1.1\r\n', '\x16\x03\x01', 'proxy TCP4', ' PROXY', '\0']) {
      const parser = new ProxyHeaderParser();
      const error = thrown(() => parser.feed(latin1(text).subarray(0, 1)));
      assert.deepEqual(describeError(error), { ...invalid('signature'), limit: undefined });
    }
  });

  it('refuses a v1 signature wrong at any of its five bytes', () => {
    for (let i = 1; i < 5; i++) {
      const bytes = latin1('PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n');
      bytes[i] = 0x5a;
      assertRefused(bytes, invalid('signature'));
    }
  });

  it('refuses a v2 signature wrong at any of its twelve bytes, before the rest arrives', () => {
    const good = hex(`${SIG} 21 11 000c ${zeros(12)}`);
    for (let i = 1; i < 12; i++) {
      const bytes = Buffer.from(good);
      bytes[i]! ^= 0x40;
      assertRefused(bytes, invalid('signature'));
      const parser = new ProxyHeaderParser();
      parser.feed(bytes.subarray(0, i));
      assert.ok(thrown(() => parser.feed(bytes.subarray(i, i + 1))) instanceof ProxyProtocolError);
    }
  });

  it('needs "PROXY" to be followed by a space', () => {
    assertRefused(latin1('PROXY\r\n'), invalid('syntax'));
    assertRefused(latin1('PROXYTCP4 1.2.3.4 5.6.7.8 1 2\r\n'), invalid('syntax'));
  });

  it('gives a FrameInvalidError (delivered as is by transports)', () => {
    assert.ok(thrown(() => parseProxyHeader(latin1('X'))) instanceof FrameInvalidError);
  });

  it('keeps failing with the same error after the first', () => {
    const parser = new ProxyHeaderParser();
    const first = thrown(() => parser.feed(latin1('HELLO')));
    assert.equal(
      thrown(() => parser.feed(latin1('PROXY UNKNOWN\r\n'))),
      first,
    );
    assert.equal(parser.bufferedBytes, 0);
  });
});

describe('v1 lines', () => {
  const refusedLines: [string, string][] = [
    ['PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n', 'syntax'],
    ['PROXY tcp4 1.2.3.4 5.6.7.8 1 2\r\n', 'syntax'],
    ['PROXY UNKNOWNX\r\n', 'syntax'],
    ['PROXY \r\n', 'syntax'],
    ['PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n', 'syntax'],
    ['PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n', 'syntax'],
    ['PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n', 'syntax'],
    ['PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n', 'syntax'],
    ['PROXY TCP4 1.2.3.4\t5.6.7.8 1 2\r\n', 'syntax'],
    ['PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n', 'syntax'],
    ['PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rX\n', 'syntax'],
    ['PROXY TCP4 1.2.3.4\n5.6.7.8 1 2\r\n', 'syntax'],
    ['PROXY UNKNOWN\n', 'syntax'],
    ['PROXY TCP4 01.2.3.4 5.6.7.8 1 2\r\n', 'address'],
    ['PROXY TCP4 1.2.3 5.6.7.8 1 2\r\n', 'address'],
    ['PROXY TCP4 1.2.3.4.5 5.6.7.8 1 2\r\n', 'address'],
    ['PROXY TCP4 256.2.3.4 5.6.7.8 1 2\r\n', 'address'],
    ['PROXY TCP4 1.2.3.4 ::1 1 2\r\n', 'address'],
    ['PROXY TCP6 1.2.3.4 ::1 1 2\r\n', 'address'],
    ['PROXY TCP6 ::1 1:2:3:4:5:6:7:8:9 1 2\r\n', 'address'],
    ['PROXY TCP6 ::1 1::2::3 1 2\r\n', 'address'],
    ['PROXY TCP6 ::1 fe80::1%eth0 1 2\r\n', 'address'],
    ['PROXY TCP6 ::1 [::1] 1 2\r\n', 'address'],
    ['PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n', 'address'],
    ['PROXY TCP4 1.2.3.4 5.6.7.8 1 65536\r\n', 'address'],
    ['PROXY TCP4 1.2.3.4 5.6.7.8 1 -2\r\n', 'address'],
    ['PROXY TCP4 1.2.3.4 5.6.7.8 1 0x10\r\n', 'address'],
    ['PROXY TCP4 1.2.3.4 5.6.7.8 1 1e3\r\n', 'address'],
  ];
  for (const [line, reason] of refusedLines) {
    it(`refuses ${JSON.stringify(line)} (${reason})`, () => {
      assertRefused(latin1(line), invalid(reason));
    });
  }

  it('ignores anything after UNKNOWN, bytes over 0x7f included', () => {
    const result = parseProxyHeader(latin1('PROXY UNKNOWN \xff\x00garbage\r\n'));
    assert.ok(result.complete && result.header.transport === 'unknown');
  });

  it('accepts a line of exactly 107 bytes and refuses 108 without reading further', () => {
    const line107 = `PROXY UNKNOWN ${'x'.repeat(V1_MAX_LENGTH - 16)}\r\n`;
    assert.equal(line107.length, V1_MAX_LENGTH);
    assert.ok(parseProxyHeader(latin1(line107)).complete);
    const line108 = `PROXY UNKNOWN ${'x'.repeat(V1_MAX_LENGTH - 15)}\r\n`;
    assertRefused(latin1(line108), tooLarge(V1_MAX_LENGTH));
    // A CR as the 107th byte leaves no room for its LF.
    assertRefused(latin1(line108.slice(0, V1_MAX_LENGTH)), tooLarge(V1_MAX_LENGTH));
  });

  it('refuses 107 bytes without CRLF, holding no more', () => {
    const bytes = latin1(`PROXY UNKNOWN ${'x'.repeat(200)}`);
    const parser = new ProxyHeaderParser();
    let error: unknown;
    for (let i = 0; i < bytes.length && error === undefined; i++) {
      try {
        parser.feed(bytes.subarray(i, i + 1));
        assert.ok(parser.bufferedBytes < V1_MAX_LENGTH);
      } catch (caught) {
        error = caught;
        assert.equal(i + 1, V1_MAX_LENGTH);
      }
    }
    assert.ok(error instanceof FrameTooLargeError);
    assert.equal(error.limit, V1_MAX_LENGTH);
  });
});

describe('v2 fixed part', () => {
  it('refuses every version but 2', () => {
    for (const version of [0x0, 0x1, 0x3, 0xf]) {
      const bytes = hex(`${SIG} ${version.toString(16)}1 11 000c ${zeros(12)}`);
      assertRefused(bytes, invalid('version'));
    }
  });

  it('refuses every command but LOCAL and PROXY', () => {
    for (let command = 2; command <= 0xf; command++) {
      assertRefused(
        hex(`${SIG} 2${command.toString(16)} 11 000c ${zeros(12)}`),
        invalid('command'),
      );
    }
  });

  it('refuses every family and transport outside the table', () => {
    for (let family = 0; family < 256; family++) {
      const valid = family >> 4 <= 3 && (family & 0xf) <= 2;
      const bytes = hex(`${SIG} 21 ${family.toString(16).padStart(2, '0')} 00d8 ${zeros(216)}`);
      if (valid) assert.ok(parseProxyHeader(bytes).complete, `0x${family.toString(16)}`);
      else assertRefused(bytes, invalid('family'));
    }
  });

  it('refuses an address block shorter than its family needs, LOCAL included', () => {
    const cases: [string, number][] = [
      ['11', 12],
      ['12', 12],
      ['21', 36],
      ['22', 36],
      ['31', 216],
      ['32', 216],
    ];
    for (const [family, size] of cases) {
      for (const command of ['20', '21']) {
        const length = (size - 1).toString(16).padStart(4, '0');
        assertRefused(
          hex(`${SIG} ${command} ${family} ${length} ${zeros(size - 1)}`),
          invalid('address'),
        );
      }
    }
  });

  it('takes the bytes past the address block as TLVs, whatever the family', () => {
    const result = parseProxyHeader(hex(`${SIG} 21 11 000f ${zeros(12)} e0 0000`));
    assert.ok(result.complete);
    assert.deepEqual(result.header.tlvs.raw, [{ type: 0xe0, value: Buffer.alloc(0) }]);
  });
});

describe('v2 length bound', () => {
  const withLength = (length: number) =>
    Buffer.concat([hex(`${SIG} 21 00`), Buffer.from([length >> 8, length & 0xff])]);

  it('refuses a declared length over the default bound as soon as the length is in', () => {
    const header = withLength(DEFAULT_V2_MAX_LENGTH - 16 + 1);
    assertRefused(header, tooLarge(DEFAULT_V2_MAX_LENGTH));
    const error = thrown(() => parseProxyHeader(header));
    assert.ok(error instanceof FrameTooLargeError);
    assert.equal(error.size, DEFAULT_V2_MAX_LENGTH + 1);
  });

  it('accepts a header of exactly the bound', () => {
    const body = Buffer.concat([hex('e0'), Buffer.from([0x0f, 0xed]), Buffer.alloc(0x0fed)]);
    const header = Buffer.concat([withLength(body.length), body]);
    assert.equal(header.length, DEFAULT_V2_MAX_LENGTH);
    const fed = feedChunks([header.subarray(0, 100), header.subarray(100)]);
    assert.equal(fed.header?.tlvs.raw.length, 1);
  });

  it('follows maxV2Length, up to the 65535 the length field can say', () => {
    const small = { maxV2Length: 32 };
    assert.ok(
      thrown(() => parseProxyHeader(withLength(0x11), small)) instanceof FrameTooLargeError,
    );
    assert.equal(parseProxyHeader(withLength(0x10), small).complete, false);
    const biggest = Buffer.concat([withLength(0xffff), Buffer.alloc(0xffff)]);
    biggest.set([0xe0, 0xff, 0xfc], 16);
    const result = parseProxyHeader(biggest, { maxV2Length: 16 + 0xffff });
    assert.ok(result.complete && result.length === 16 + 0xffff);
  });
});
