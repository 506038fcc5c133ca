/**
 * The PROXY header parsers on hand-built fixtures: every field of v1 and v2 read as specified,
 * the bytes after the header handed back untouched, every split of each header (with and
 * without application data behind it), and every truncation answered "need more".
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidArgumentError } from '../../src/errors.js';
import {
  ProxyHeaderParser,
  parseProxyHeader,
  proxiedAddresses,
  V2_HARD_MAX_LENGTH,
} from '../../src/proxy/index.js';
import { everySplit } from '../../src/testing/splits.js';
import { ALL_FIXTURES, ALL_TLVS, plain, V1_FIXTURES, V2_FIXTURES } from './proxy-fixtures.js';
import { feedChunks, thrown } from './proxy-support.js';

const APP = Buffer.from('GET / HTTP/1.1\r\nHost: example.com\r\n\r\n');

describe('parseProxyHeader: the fixtures', () => {
  for (const fixture of ALL_FIXTURES) {
    it(`reads ${fixture.name}`, () => {
      const result = parseProxyHeader(fixture.bytes);
      assert.ok(result.complete);
      assert.equal(result.length, fixture.bytes.length);
      assert.deepEqual(plain(result.header), plain(fixture.header));
    });
  }

  it('stops at the end of the header: what follows is not read', () => {
    for (const fixture of ALL_FIXTURES) {
      const result = parseProxyHeader(Buffer.concat([fixture.bytes, APP]));
      assert.ok(result.complete, fixture.name);
      assert.equal(result.length, fixture.bytes.length, fixture.name);
    }
  });

  it('takes bytes that look like another header as application data', () => {
    const [first, second] = V1_FIXTURES;
    const result = parseProxyHeader(Buffer.concat([first!.bytes, second!.bytes]));
    assert.ok(result.complete);
    assert.equal(result.length, first!.bytes.length);
  });

  it('copies TLV values out of the input', () => {
    const input = Buffer.from(ALL_TLVS.bytes);
    const result = parseProxyHeader(input);
    assert.ok(result.complete);
    input.fill(0);
    assert.deepEqual(plain(result.header), plain(ALL_TLVS.header));
  });

  it('reports a v1 header version 1, a v2 header version 2', () => {
    for (const fixture of V1_FIXTURES) assert.equal(fixture.header.version, 1);
    for (const fixture of V2_FIXTURES) assert.equal(fixture.header.version, 2);
  });
});

describe('ProxyHeaderParser: every split', () => {
  for (const fixture of ALL_FIXTURES) {
    it(`reads ${fixture.name} however it is cut, application bytes after it or not`, () => {
      for (const input of [fixture.bytes, [fixture.bytes, APP]]) {
        let cases = 0;
        for (const split of everySplit(input, { limit: 600 })) {
          cases++;
          const fed = feedChunks(split.chunks);
          assert.ok(fed.header !== undefined, `${split.label}: incomplete`);
          assert.deepEqual(plain(fed.header), plain(fixture.header), split.label);
          const expected = Array.isArray(input) ? APP : Buffer.alloc(0);
          assert.deepEqual(fed.rest, expected, `${split.label}: rest`);
        }
        assert.ok(cases > 10);
      }
    });
  }

  it('answers "need more" for every truncation of every fixture, and never throws', () => {
    for (const fixture of ALL_FIXTURES) {
      for (let length = 0; length < fixture.bytes.length; length++) {
        const prefix = fixture.bytes.subarray(0, length);
        const result = parseProxyHeader(prefix);
        assert.equal(result.complete, false, `${fixture.name} cut to ${length}`);
        assert.ok(!result.complete && result.need > length);
        assert.equal(feedChunks([Buffer.from(prefix)]).header, undefined);
      }
    }
  });

  it('hands back a view of the chunk when the header came whole', () => {
    const chunk = Buffer.concat([V2_FIXTURES[0]!.bytes, APP]);
    const result = new ProxyHeaderParser().feed(chunk);
    assert.ok(result.complete);
    assert.equal(result.rest.buffer, chunk.buffer);
    assert.deepEqual(result.rest, APP);
  });

  it('ignores empty chunks', () => {
    const parser = new ProxyHeaderParser();
    assert.equal(parser.feed(Buffer.alloc(0)).complete, false);
    const result = parser.feed(V1_FIXTURES[0]!.bytes);
    assert.ok(result.complete);
    assert.equal(parser.done, true);
  });

  it('accepts a plain Uint8Array', () => {
    const bytes = new Uint8Array(V2_FIXTURES[0]!.bytes);
    const result = new ProxyHeaderParser().feed(bytes);
    assert.ok(result.complete);
    assert.equal(result.header.transport, 'tcp');
  });

  it('refuses to be fed after the header: the rest is the application’s', () => {
    const parser = new ProxyHeaderParser();
    parser.feed(V1_FIXTURES[0]!.bytes);
    assert.ok(thrown(() => parser.feed(APP)) instanceof InvalidArgumentError);
  });

  it('needs only the fixed part to know how much more a v2 header takes', () => {
    const bytes = ALL_TLVS.bytes;
    const result = parseProxyHeader(bytes.subarray(0, 16));
    assert.deepEqual(result, { complete: false, need: bytes.length });
  });
});

describe('options', () => {
  it('checks maxV2Length', () => {
    for (const bad of [15, V2_HARD_MAX_LENGTH + 1, 100.5, Number.NaN]) {
      assert.ok(
        thrown(() => parseProxyHeader(Buffer.alloc(0), { maxV2Length: bad })) instanceof
          InvalidArgumentError,
      );
      assert.ok(
        thrown(() => new ProxyHeaderParser({ maxV2Length: bad })) instanceof InvalidArgumentError,
      );
    }
    assert.equal(parseProxyHeader(Buffer.alloc(0), { maxV2Length: 16 }).complete, false);
  });
});

describe('proxiedAddresses', () => {
  const real = {
    peername: { family: 'IPv4', address: '10.0.0.1', port: 4000 },
    sockname: { family: 'IPv4', address: '10.0.0.2', port: 443 },
  } as const;

  it('believes the header when it carries addresses', () => {
    const header = V1_FIXTURES[0]!.header;
    assert.deepEqual(proxiedAddresses(header, real), {
      source: header.source,
      destination: header.destination,
    });
  });

  it('falls back to the real socket for LOCAL, UNKNOWN and UNSPEC', () => {
    const unknown = ALL_FIXTURES.filter((fixture) => fixture.header.transport === 'unknown');
    assert.ok(unknown.length >= 5);
    for (const fixture of unknown) {
      assert.deepEqual(proxiedAddresses(fixture.header, real), {
        source: real.peername,
        destination: real.sockname,
      });
    }
  });
});
