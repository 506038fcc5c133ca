/**
 * The trust check: CIDR parsing and its refusals, matching at the edge masks (/0, /32, /128 and
 * every prefix in between), IPv4-mapped IPv6 addresses both ways, and a property check against
 * Node's own `BlockList` as the reference. Also the address text parser the matcher uses,
 * against `node:net` and the WHATWG URL serializer.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { InvalidArgumentError } from '../../src/errors.js';
import { CidrList, isTrusted, parseCidr } from '../../src/proxy/index.js';
import { formatIPv6, parseIPv4, parseIPv6 } from '../../src/proxy/ip-address.js';
import { thrown } from './proxy-support.js';

describe('parseCidr', () => {
  it('reads IPv4 and IPv6 networks, canonical', () => {
    assert.deepEqual(parseCidr('10.0.0.0/8'), { family: 'IPv4', network: '10.0.0.0', prefix: 8 });
    assert.deepEqual(parseCidr('2001:DB8:0::/32'), {
      family: 'IPv6',
      network: '2001:db8::',
      prefix: 32,
    });
    assert.deepEqual(parseCidr('0.0.0.0/0'), { family: 'IPv4', network: '0.0.0.0', prefix: 0 });
    assert.deepEqual(parseCidr('::/0'), { family: 'IPv6', network: '::', prefix: 0 });
  });

  it('takes a bare address as one host', () => {
    assert.deepEqual(parseCidr('192.0.2.7'), { family: 'IPv4', network: '192.0.2.7', prefix: 32 });
    assert.deepEqual(parseCidr('::1'), { family: 'IPv6', network: '::1', prefix: 128 });
  });

  it('refuses anything else with InvalidArgumentError', () => {
    const bad = [
      '',
      '/8',
      '10.0.0.0/',
      '10.0.0.0/33',
      '10.0.0.0/-1',
      '10.0.0.0/08',
      '10.0.0.0/8/8',
      '10.0.0.0/ 8',
      '10.0.0/8',
      '010.0.0.0/8',
      '10.0.0.256/32',
      '::/129',
      '::1%eth0/128',
      'fe80::1%eth0',
      '1::2::3/64',
      'example.com/24',
      ' 10.0.0.0/8',
      '10.0.0.0/8 ',
    ];
    for (const text of bad) {
      const error = thrown(() => parseCidr(text));
      assert.ok(error instanceof InvalidArgumentError, text);
      assert.match(error.message, /^invalid CIDR/, text);
    }
  });

  it('refuses host bits past the prefix rather than widen the network', () => {
    const error = thrown(() => parseCidr('10.1.2.3/8'));
    assert.ok(error instanceof InvalidArgumentError);
    assert.match(error.message, /host bits are set past \/8.*10\.1\.2\.3\/32/);
    assert.ok(thrown(() => parseCidr('2001:db8::1/64')) instanceof InvalidArgumentError);
    assert.ok(thrown(() => parseCidr('0.0.0.1/0')) instanceof InvalidArgumentError);
    assert.ok(thrown(() => parseCidr('::1/127')) instanceof InvalidArgumentError);
  });

  it('refuses non-strings, and a list given as one string', () => {
    assert.ok(thrown(() => parseCidr(8 as unknown as string)) instanceof InvalidArgumentError);
    assert.ok(thrown(() => new CidrList('10.0.0.0/8')) instanceof InvalidArgumentError);
    const error = thrown(() => new CidrList(['10.0.0.0/8', 'nope']));
    assert.ok(error instanceof InvalidArgumentError && error.message.includes('"nope"'));
  });
});

describe('CidrList.contains', () => {
  it('matches at the edge masks', () => {
    const all4 = new CidrList(['0.0.0.0/0']);
    assert.ok(all4.contains('0.0.0.0') && all4.contains('255.255.255.255'));
    assert.ok(!all4.contains('::1'));
    const one = new CidrList(['192.0.2.7/32']);
    assert.ok(one.contains('192.0.2.7'));
    assert.ok(!one.contains('192.0.2.6') && !one.contains('192.0.2.8'));
    const all6 = new CidrList(['::/0']);
    assert.ok(all6.contains('::') && all6.contains('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'));
    const host6 = new CidrList(['2001:db8::1/128']);
    assert.ok(host6.contains('2001:db8::1') && host6.contains('2001:DB8:0:0:0:0:0:1'));
    assert.ok(!host6.contains('2001:db8::') && !host6.contains('2001:db8::2'));
  });

  it('matches every prefix length exactly at its boundary', () => {
    for (let prefix = 1; prefix <= 32; prefix++) {
      const list = new CidrList([`128.0.0.0/${prefix}`]);
      // The last address inside, and the first one past the network.
      const inside = (0x80000000 | (2 ** (32 - prefix) - 1)) >>> 0;
      const outside = (inside + 1) >>> 0;
      assert.ok(list.contains(ipv4(inside)), `/${prefix} ${ipv4(inside)}`);
      if (prefix > 1) assert.ok(!list.contains(ipv4(outside)), `/${prefix} ${ipv4(outside)}`);
      assert.ok(!list.contains(ipv4(0x7fffffff)));
    }
    for (let prefix = 1; prefix <= 128; prefix++) {
      const list = new CidrList([`8000::/${prefix}`]);
      const bits = (i: number) => (i < prefix ? (i === 0 ? 1 : 0) : 1);
      const inside = ipv6FromBits(bits);
      assert.ok(list.contains(inside), `/${prefix} ${inside}`);
      const flipped = ipv6FromBits((i) => (i === prefix - 1 ? 1 - bits(i) : bits(i)));
      if (prefix > 1) assert.ok(!list.contains(flipped), `/${prefix} ${flipped}`);
    }
  });

  it('treats IPv4-mapped IPv6 addresses as the IPv4 address, both ways', () => {
    const v4 = new CidrList(['10.0.0.0/8']);
    assert.ok(v4.contains('::ffff:10.1.2.3'));
    assert.ok(v4.contains('::FFFF:0a01:0203'));
    assert.ok(v4.contains({ family: 'IPv6', address: '::ffff:10.1.2.3', port: 1 }));
    assert.ok(!v4.contains('::ffff:11.1.2.3'));
    assert.ok(!v4.contains('::10.1.2.3'), 'IPv4-compatible is not mapped');
    assert.ok(!v4.contains('64:ff9b::10.1.2.3'), 'NAT64 is not mapped');
    const mapped = new CidrList(['::ffff:10.0.0.0/104']);
    assert.ok(mapped.contains('10.200.0.1'));
    assert.ok(!mapped.contains('11.0.0.1'));
    assert.ok(new CidrList(['::/0']).contains('192.0.2.1'), '::/0 covers every IPv4 address');
  });

  it('fails closed: no address, a Unix peer, a zone, garbage', () => {
    const list = new CidrList(['0.0.0.0/0', '::/0']);
    assert.ok(!list.contains(undefined));
    assert.ok(!list.contains({ family: 'unix', path: '/run/x.sock' }));
    assert.ok(!list.contains('localhost'));
    assert.ok(!list.contains('1.2.3.04'));
    assert.ok(!list.contains(''));
    assert.ok(list.contains('fe80::1%eth0'), 'the zone is dropped, the address matched');
    assert.ok(!new CidrList([]).contains('127.0.0.1'));
  });

  it('checks every network of the list', () => {
    const list = new CidrList(['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fd00::/8']);
    assert.ok(list.contains('172.31.255.255'));
    assert.ok(!list.contains('172.32.0.0'));
    assert.ok(list.contains('fdff::1'));
    assert.ok(!list.contains('fe00::1'));
    assert.deepEqual(
      list.cidrs.map((cidr) => `${cidr.network}/${cidr.prefix}`),
      ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fd00::/8'],
    );
  });

  it('isTrusted takes a CidrList or strings', () => {
    assert.ok(isTrusted('127.0.0.1', ['127.0.0.0/8']));
    assert.ok(isTrusted('::1', new CidrList(['::1'])));
    assert.ok(!isTrusted('10.0.0.1', ['127.0.0.0/8']));
    assert.ok(
      thrown(() => isTrusted('10.0.0.1', ['127.0.0.0/88'])) instanceof InvalidArgumentError,
    );
  });

  it('agrees with node:net BlockList on random networks and addresses', () => {
    const v4 = fc.tuple(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 32 }));
    fc.assert(
      fc.property(
        v4,
        fc.array(fc.integer({ min: 0, max: 0xffffffff }), { maxLength: 20 }),
        ([base, prefix], addresses) => {
          const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
          const network = ipv4((base & mask) >>> 0);
          const ours = new CidrList([`${network}/${prefix}`]);
          const reference = new net.BlockList();
          reference.addSubnet(network, prefix, 'ipv4');
          for (const address of [...addresses.map(ipv4), network]) {
            assert.equal(
              ours.contains(address),
              reference.check(address, 'ipv4'),
              `${network}/${prefix} ${address}`,
            );
          }
        },
      ),
      { numRuns: 300 },
    );
    const v6 = fc.tuple(
      fc.uint8Array({ minLength: 16, maxLength: 16 }),
      fc.integer({ min: 0, max: 128 }),
    );
    fc.assert(
      fc.property(
        v6,
        fc.array(fc.uint8Array({ minLength: 16, maxLength: 16 }), { maxLength: 20 }),
        ([base, prefix], addresses) => {
          const networkBytes = base.map((byte, i) => {
            const keep = Math.min(8, Math.max(0, prefix - 8 * i));
            return byte & ((0xff << (8 - keep)) & 0xff);
          });
          const network = formatIPv6(networkBytes);
          const ours = new CidrList([`${network}/${prefix}`]);
          const reference = new net.BlockList();
          reference.addSubnet(network, prefix, 'ipv6');
          // Addresses near the network too, so matches are common.
          const near = addresses.map((bytes) =>
            formatIPv6(bytes.map((b, i) => (i < 14 ? networkBytes[i]! : b))),
          );
          for (const address of [
            ...addresses.map((bytes) => formatIPv6(bytes)),
            ...near,
            network,
          ]) {
            assert.equal(
              ours.contains(address),
              reference.check(address, 'ipv6'),
              `${network}/${prefix} ${address}`,
            );
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('address text', () => {
  it('parses what node:net calls an IP address, and nothing else', () => {
    const text = fc.oneof(
      fc.stringMatching(/^[0-9a-fA-F:.]{0,46}$/),
      fc.uint8Array({ minLength: 16, maxLength: 16 }).map((bytes) => formatIPv6(bytes)),
      fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((parts) => parts.join('.')),
    );
    fc.assert(
      fc.property(text, (candidate) => {
        assert.equal(parseIPv4(candidate) !== undefined, net.isIPv4(candidate), candidate);
        assert.equal(parseIPv6(candidate) !== undefined, net.isIPv6(candidate), candidate);
      }),
      { numRuns: 3000 },
    );
  });

  it('formats IPv6 canonically (RFC 5952), as the URL serializer does', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffff })), {
          minLength: 8,
          maxLength: 8,
        }),
        (words) => {
          const bytes = new Uint8Array(16);
          words.forEach((word, i) => {
            bytes[2 * i] = word >> 8;
            bytes[2 * i + 1] = word & 0xff;
          });
          const text = formatIPv6(bytes);
          assert.deepEqual(parseIPv6(text), bytes);
          if (!text.startsWith('::ffff:') || text.split(':').length > 4) {
            assert.equal(text, new URL(`http://[${text}]/`).hostname.slice(1, -1));
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});

function ipv4(value: number): string {
  return [value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff].join('.');
}

function ipv6FromBits(bit: (index: number) => number): string {
  const bytes = new Uint8Array(16);
  for (let i = 0; i < 128; i++) if (bit(i) === 1) bytes[i >> 3]! |= 0x80 >> (i & 7);
  return formatIPv6(bytes);
}
