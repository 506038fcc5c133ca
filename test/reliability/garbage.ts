/**
 * The hostile inputs of scenario 10, per framing: random garbage, oversized frames (length
 * prefixes 2^31-1 and 2^32-1, lines past the maximum), truncated frames, valid frames that are
 * not ledger messages, and requests for acks larger than a frame may be — each ended by FIN,
 * by a reset, or by a plain close. Seeded, so a failure can be replayed.
 */
import { encodeMessage, type Framing, frame } from './ledger.js';

/** One hostile connection. */
export interface Attack {
  readonly kind: string;
  readonly payload: Buffer;
  readonly finish: 'fin' | 'rst' | 'close';
}

/** Largest garbage blob, bytes. */
const GARBAGE_MAX = 64 * 1024;

function garbage(random: () => number, length: number): Buffer {
  const bytes = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) bytes[i] = Math.floor(random() * 256);
  return bytes;
}

function header(length: number): Buffer {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(length, 0);
  return bytes;
}

type Make = () => Buffer;

/** The attacks one framing can suffer; `maxFrame` is the server's limit. */
function kinds(framing: Framing, maxFrame: number, random: () => number): [string, Make][] {
  const blob = () => garbage(random, 1 + Math.floor(random() * GARBAGE_MAX));
  const common: [string, Make][] = [
    ['garbage', blob],
    ['garbage x4', () => Buffer.concat([blob(), blob(), blob(), blob()])],
  ];
  if (framing === 'none') return [...common, ['1 MiB blob', () => garbage(random, 1024 * 1024)]];
  if (framing === 'line') {
    return [
      ...common,
      [
        'line over max',
        () => Buffer.alloc(maxFrame + 1 + Math.floor(random() * 4 * maxFrame), 0x61),
      ],
      [
        'line over max, then \\n',
        () => Buffer.concat([Buffer.alloc(maxFrame * 2, 0x62), frame('line', Buffer.from('x'))]),
      ],
      ['1 MiB, no \\n', () => Buffer.alloc(1024 * 1024, 0x63)],
      ['truncated line', () => Buffer.from('a7 12')],
      ['not a ledger line', () => frame('line', Buffer.from('GET / HTTP/1.1\r'))],
      ['big ack request', () => encodeMessage('line', 'z1', 0, maxFrame * 4)],
    ];
  }
  return [
    ...common,
    ['prefix 2^31-1', () => Buffer.concat([header(2 ** 31 - 1), garbage(random, 100)])],
    ['prefix 2^32-1', () => Buffer.concat([header(2 ** 32 - 1), garbage(random, 100)])],
    ['prefix max+1', () => Buffer.concat([header(maxFrame + 1), garbage(random, 1000)])],
    ['truncated frame', () => Buffer.concat([header(100), garbage(random, 50)])],
    ['truncated header', () => Buffer.from([0, 0])],
    ['empty frame', () => header(0)],
    ['not a ledger frame', () => frame('length', Buffer.from('hello'))],
    ['big ack request', () => encodeMessage('length', 'z1', 0, maxFrame * 4)],
  ];
}

const FINISHES = ['fin', 'rst', 'close'] as const;

/** `count` attacks for `framing`, cycling through every kind and every way to end. */
export function attacks(
  framing: Framing,
  maxFrame: number,
  count: number,
  random: () => number,
): Attack[] {
  const all = kinds(framing, maxFrame, random);
  const out: Attack[] = [];
  for (let i = 0; i < count; i++) {
    const [kind, make] = all[i % all.length]!;
    out.push({
      kind,
      payload: make(),
      finish: FINISHES[Math.floor(i / all.length) % FINISHES.length]!,
    });
  }
  return out;
}
