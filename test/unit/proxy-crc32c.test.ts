/**
 * CRC32C (Castagnoli): the standard check value, the RFC 3720 (iSCSI) appendix B.4 vectors, and
 * the incremental form used to verify a header with its checksum field zeroed.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  CRC32C_INIT,
  crc32c,
  crc32cFinish,
  crc32cUpdate,
  crc32cUpdateZeros,
} from '../../src/proxy/crc32c.js';

describe('crc32c', () => {
  it('gives the check value of "123456789"', () => {
    assert.equal(crc32c('123456789'), 0xe3069283);
  });

  it('matches the RFC 3720 B.4 vectors', () => {
    const ascending = Uint8Array.from({ length: 32 }, (_, i) => i);
    const descending = Uint8Array.from({ length: 32 }, (_, i) => 31 - i);
    assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa);
    assert.equal(crc32c(new Uint8Array(32).fill(0xff)), 0x62a8ab43);
    assert.equal(crc32c(ascending), 0x46dd794e);
    assert.equal(crc32c(descending), 0x113fdb5c);
  });

  it('is 0 for no bytes, and always an unsigned 32-bit number', () => {
    assert.equal(crc32c(new Uint8Array(0)), 0);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const sum = crc32c(bytes);
        return Number.isInteger(sum) && sum >= 0 && sum <= 0xffffffff;
      }),
    );
  });

  it('gives the same sum fed in pieces, and with zeros fed as zeros', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 200 }),
        fc.nat(),
        fc.nat({ max: 16 }),
        (bytes, cutSeed, zeroCount) => {
          const cut = bytes.length === 0 ? 0 : cutSeed % bytes.length;
          let state = crc32cUpdate(CRC32C_INIT, bytes, 0, cut);
          state = crc32cUpdateZeros(state, zeroCount);
          state = crc32cUpdate(state, bytes, cut);
          const whole = new Uint8Array(bytes.length + zeroCount);
          whole.set(bytes.subarray(0, cut));
          whole.set(bytes.subarray(cut), cut + zeroCount);
          assert.equal(crc32cFinish(state), crc32c(whole));
        },
      ),
    );
  });

  it('catches every single-bit error in a header-sized input', () => {
    const bytes = Uint8Array.from({ length: 232 }, (_, i) => (i * 37) & 0xff);
    const sum = crc32c(bytes);
    for (let bit = 0; bit < bytes.length * 8; bit++) {
      bytes[bit >> 3]! ^= 1 << (bit & 7);
      assert.notEqual(crc32c(bytes), sum);
      bytes[bit >> 3]! ^= 1 << (bit & 7);
    }
  });
});
