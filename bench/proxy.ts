/**
 * Micro-benchmark of the PROXY protocol parsers: headers per second (and ns per header) for v1
 * and v2 headers of each kind, parsed the way a server parses them — one `ProxyHeaderParser` per
 * connection, fed the connection's first read (the header plus some application bytes); the
 * one-shot `parseProxyHeader` for two of them; and the CIDR trust check.
 *
 * Run: npx tsx bench/proxy.ts           (about 5 s; one core)
 *      npx tsx bench/proxy.ts v2        (only the cases whose name contains the text)
 */
import { performance } from 'node:perf_hooks';
import {
  alpnTlv,
  authorityTlv,
  CidrList,
  encodeProxyHeader,
  type ProxyHeaderInput,
  ProxyHeaderParser,
  parseProxyHeader,
  sslTlv,
  uniqueIdTlv,
} from '../src/proxy/index.js';

/** Milliseconds of untimed runs first, so the JIT has optimised the hot path. */
const WARMUP_MS = 150;
/** Milliseconds measured per case: enough to average out a GC pause, short enough to run often. */
const MEASURE_MS = 300;
/** Headers parsed between two clock reads, so reading the clock costs nothing measurable. */
const BATCH = 1000;
/** Application bytes after the header in the simulated first read (a small HTTP request). */
const FIRST_READ_TAIL = Buffer.from('GET / HTTP/1.1\r\nHost: example.com\r\n\r\n');

const SRC4 = { family: 'IPv4', address: '203.0.113.195', port: 56324 } as const;
const DST4 = { family: 'IPv4', address: '192.0.2.10', port: 443 } as const;
const SRC6 = { family: 'IPv6', address: '2001:db8:85a3::8a2e:370:7334', port: 56324 } as const;
const DST6 = { family: 'IPv6', address: '2001:db8::10', port: 443 } as const;

interface Case {
  readonly name: string;
  readonly bytes: Buffer;
}

function cases(): Case[] {
  const v1 = (header: Omit<ProxyHeaderInput, 'version'>) =>
    encodeProxyHeader({ ...header, version: 1 } as ProxyHeaderInput);
  const v2 = (header: Omit<ProxyHeaderInput, 'version'>, crc32c = false) =>
    encodeProxyHeader({ ...header, version: 2 } as ProxyHeaderInput, { crc32c });
  const tcp4 = { command: 'proxy', transport: 'tcp', source: SRC4, destination: DST4 } as const;
  const tcp6 = { command: 'proxy', transport: 'tcp', source: SRC6, destination: DST6 } as const;
  const tlvs = {
    raw: [
      alpnTlv('h2'),
      authorityTlv('www.example.com'),
      uniqueIdTlv(Buffer.alloc(32, 7)),
      sslTlv({
        client: 1,
        version: 'TLSv1.3',
        cipher: 'TLS_AES_128_GCM_SHA256',
        commonName: 'client.example.com',
      }),
    ],
  };
  return [
    { name: 'v1 TCP4', bytes: v1(tcp4) },
    { name: 'v1 TCP6', bytes: v1(tcp6) },
    {
      name: 'v1 UNKNOWN',
      bytes: v1({
        command: 'proxy',
        transport: 'unknown',
        source: undefined,
        destination: undefined,
      }),
    },
    { name: 'v2 TCP4', bytes: v2(tcp4) },
    { name: 'v2 TCP6', bytes: v2(tcp6) },
    {
      name: 'v2 LOCAL',
      bytes: v2({
        command: 'local',
        transport: 'unknown',
        source: undefined,
        destination: undefined,
      }),
    },
    { name: 'v2 TCP4 + CRC32C', bytes: v2(tcp4, true) },
    { name: 'v2 TCP6 + 4 TLVs + CRC32C', bytes: v2({ ...tcp6, tlvs }, true) },
  ];
}

/** Runs `body` in batches for the measuring window; returns calls per CPU second. */
function measure(body: () => void): number {
  const warmUntil = performance.now() + WARMUP_MS;
  while (performance.now() < warmUntil) for (let i = 0; i < BATCH; i++) body();
  let calls = 0;
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  do {
    for (let i = 0; i < BATCH; i++) body();
    calls += BATCH;
  } while (performance.now() - start < MEASURE_MS);
  const cpu = process.cpuUsage(cpuStart);
  return calls / ((cpu.user + cpu.system) / 1e6);
}

function row(cells: readonly string[]): string {
  const widths = [34, 6, 12, 8];
  return cells
    .map((cell, i) => (i === 0 ? cell.padEnd(widths[0]!) : cell.padStart(widths[i] ?? 10)))
    .join(' ');
}

function report(name: string, size: string, perSecond: number): void {
  console.log(
    row([name, size, Math.round(perSecond).toLocaleString('en-US'), (1e9 / perSecond).toFixed(0)]),
  );
}

/** Cases also run through the one-shot `parseProxyHeader`, to show what the streaming layer costs. */
const ONE_SHOT = new Set(['v1 TCP4', 'v2 TCP4']);

function main(): void {
  const only = process.argv[2];
  const wanted = (name: string) => only === undefined || name.includes(only);
  console.log(`node ${process.version}, ${MEASURE_MS} ms per case, CPU time`);
  console.log(row(['case', 'bytes', 'headers/s', 'ns/hdr']));
  let sink = 0;
  for (const { name, bytes } of cases()) {
    const firstRead = Buffer.concat([bytes, FIRST_READ_TAIL]);
    const size = String(bytes.length);
    if (wanted(name)) {
      report(
        name,
        size,
        measure(() => {
          const result = new ProxyHeaderParser().feed(firstRead);
          if (!result.complete) throw new Error(`${name}: incomplete`);
          sink += result.rest.length;
        }),
      );
    }
    if (ONE_SHOT.has(name) && wanted(`${name} one-shot`)) {
      report(
        `${name} (one-shot)`,
        size,
        measure(() => {
          const result = parseProxyHeader(firstRead);
          if (!result.complete) throw new Error(`${name}: incomplete`);
          sink += result.length;
        }),
      );
    }
  }
  if (wanted('cidr')) {
    const list = new CidrList([
      '10.0.0.0/8',
      '172.16.0.0/12',
      '192.168.0.0/16',
      'fd00::/8',
      '2001:db8::/32',
    ]);
    report(
      'cidr 5 nets, IPv4 miss',
      '-',
      measure(() => {
        if (!list.contains('203.0.113.195')) sink++;
      }),
    );
    report(
      'cidr 5 nets, IPv6 hit',
      '-',
      measure(() => {
        if (list.contains('2001:db8:85a3::8a2e:370:7334')) sink++;
      }),
    );
  }
  // Keeps the results alive, so the JIT cannot drop the work.
  if (sink < 0) console.log(sink);
}

main();
