/**
 * Every way TCP may cut a byte stream, for tests: `everySplit` yields the ways, `replaySplits`
 * runs a check on each and names the split that failed. A decoder or protocol that passes sees
 * its input whole, cut once anywhere, cut twice anywhere (small inputs), one byte at a time,
 * with message boundaries kept or merged in every combination, and cut at random.
 *
 * The families and their sizes, for `n` bytes in `k` messages (`limit` defaults to 2048):
 *
 * | family     | cases          | exhaustive while          |
 * | ---------- | -------------- | ------------------------- |
 * | `whole`    | 1              | always                    |
 * | `coalesce` | 2^(k-1)        | k <= 12                   |
 * | `single`   | n - 1          | n <= 2049                 |
 * | `pair`     | (n-1)(n-2)/2   | n <= 65                   |
 * | `bytewise` | 1              | always                    |
 * | `random`   | `random` (32)  | —                         |
 *
 * A family over `limit` is sampled down to `limit` cases with a seeded PRNG (same seed, same
 * cases: a failure reproduces); sampled `single` cuts always include the first and the last
 * position. Cases that cut the input the same way are yielded once. So a run costs at most
 * `3 * limit + random + 2` cases, each copying the input once.
 */
import { Buffer } from 'node:buffer';
import { InvalidArgumentError } from '../errors.js';

/** Bytes (a string is taken as UTF-8), or a list of messages as a peer would write them. */
export type SplitInput = Uint8Array | string | readonly (Uint8Array | string)[];

/** Which family a split belongs to. */
export type SplitKind = 'whole' | 'coalesce' | 'single' | 'pair' | 'bytewise' | 'random';

/** One way to cut the input. */
export interface Split {
  readonly kind: SplitKind;
  /** Offsets of the cuts into the whole input, ascending; empty for `whole`. */
  readonly cuts: readonly number[];
  /** The chunks to deliver, in order: fresh copies, the receiver may keep or change them. */
  readonly chunks: Buffer[];
  /** What the split is, for a failure message: `cut at 5`, `coalesce (0 1)(2)`. */
  readonly label: string;
}

/** How far `everySplit` goes. */
export interface SplitOptions {
  /** Largest family enumerated in full; a larger one is sampled to this many. @default 2048 */
  readonly limit?: number;
  /** How many random multi-cut splits to add. @default 32 */
  readonly random?: number;
  /** Seed of the sampling and of the random splits. @default 1 */
  readonly seed?: number;
}

const DEFAULT_LIMIT = 2048;
const DEFAULT_RANDOM = 32;
const DEFAULT_SEED = 1;
/** Random splits cut into chunks of about this many bytes at most, on average. */
const RANDOM_MEAN_CHUNK_MAX = 64;
/** Labels list at most this many cut offsets. */
const LABEL_CUTS_MAX = 8;

/**
 * Yields every way to cut `input` described above (whole first), each once.
 * @throws InvalidArgumentError for bad options or input.
 */
export function* everySplit(input: SplitInput, options: SplitOptions = {}): Generator<Split> {
  const limit = options.limit ?? DEFAULT_LIMIT;
  const random = options.random ?? DEFAULT_RANDOM;
  for (const [name, value] of [
    ['limit', limit],
    ['random', random],
  ] as const) {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new InvalidArgumentError(`everySplit() option ${name} must be a whole number >= 0`);
    }
  }
  const messages = toMessages(input);
  const bytes = Buffer.concat(messages);
  const n = bytes.length;
  const next = prng(options.seed ?? DEFAULT_SEED);
  const seen = new Set<string>();

  function* emit(kind: SplitKind, cuts: number[], label: string): Generator<Split> {
    const key = cuts.length === n - 1 ? 'all' : cuts.join(',');
    if (seen.has(key)) return;
    seen.add(key);
    yield { kind, cuts, chunks: cutAt(bytes, cuts), label };
  }

  yield* emit('whole', [], 'whole');

  // Message boundaries, each kept or merged.
  const boundaries: number[] = [];
  let offset = 0;
  for (const message of messages.slice(0, -1)) {
    offset += message.length;
    if (offset > 0 && offset < n && boundaries.at(-1) !== offset) boundaries.push(offset);
  }
  const b = boundaries.length;
  if (b > 0) {
    const exhaustive = b < 31 && 2 ** b <= limit;
    const count = exhaustive ? 2 ** b : limit;
    for (let i = 0; i < count; i++) {
      const keep = boundaries.map((_, j) => (exhaustive ? (i & (1 << j)) !== 0 : next() < 0.5));
      const cuts = boundaries.filter((_, j) => keep[j]);
      yield* emit('coalesce', cuts, `coalesce ${grouping(messages, cuts)}`);
    }
  }

  // One cut anywhere.
  const positions = n - 1;
  if (positions > 0) {
    const chosen =
      positions <= limit
        ? range(1, n)
        : sample(limit, () => 1 + int(next, positions), [1, n - 1].slice(0, limit));
    chosen.sort((x, y) => x - y);
    for (const cut of chosen) yield* emit('single', [cut], `cut at ${cut}`);
  }

  // Two cuts anywhere.
  const pairs = (positions * (positions - 1)) / 2;
  if (pairs > 0) {
    if (pairs <= limit) {
      for (let i = 1; i < n; i++) {
        for (let j = i + 1; j < n; j++) yield* emit('pair', [i, j], `cuts at ${i}, ${j}`);
      }
    } else {
      const keys = sample(limit, () => {
        const i = 1 + int(next, positions);
        let j = 1 + int(next, positions - 1);
        if (j >= i) j++;
        return Math.min(i, j) * n + Math.max(i, j);
      });
      for (const key of keys) {
        const i = Math.floor(key / n);
        yield* emit('pair', [i, key % n], `cuts at ${i}, ${key % n}`);
      }
    }
  }

  if (n > 1) yield* emit('bytewise', range(1, n), 'one byte at a time');

  // Random chunkings, from many small pieces to a few large ones.
  for (let i = 0; i < random && n > 1; i++) {
    const mean = 1 + int(next, Math.min(n, RANDOM_MEAN_CHUNK_MAX));
    const cuts: number[] = [];
    for (let at = 1 + int(next, 2 * mean); at < n; at += 1 + int(next, 2 * mean)) cuts.push(at);
    yield* emit('random', cuts, `random #${i}: ${describeCuts(cuts)}`);
  }
}

/**
 * Calls `check(chunks, split)` for every split of `input` (see `everySplit`), and returns how
 * many ran. A failure is rethrown wrapped in an `Error` whose message names the split (its
 * `cause` is the original error), so the failing case can be replayed alone.
 */
export function replaySplits(
  input: SplitInput,
  check: (chunks: Buffer[], split: Split) => void,
  options?: SplitOptions,
): number {
  let count = 0;
  for (const split of everySplit(input, options)) {
    count++;
    try {
      check(split.chunks, split);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      throw new Error(`split "${split.label}" failed: ${message}`, { cause: error });
    }
  }
  return count;
}

function toMessages(input: SplitInput): Buffer[] {
  const list: readonly unknown[] = Array.isArray(input) ? input : [input];
  return list.map((item) => {
    if (typeof item === 'string') return Buffer.from(item, 'utf8');
    if (item instanceof Uint8Array) return Buffer.from(item.buffer, item.byteOffset, item.length);
    throw new InvalidArgumentError('everySplit() takes bytes, a string, or a list of them');
  });
}

function cutAt(bytes: Buffer, cuts: readonly number[]): Buffer[] {
  if (bytes.length === 0) return [];
  const chunks: Buffer[] = [];
  let start = 0;
  for (const cut of [...cuts, bytes.length]) {
    chunks.push(Buffer.from(bytes.subarray(start, cut)));
    start = cut;
  }
  return chunks;
}

/** `(0 1)(2)`: which messages travel together when the stream is cut at `cuts`. */
function grouping(messages: readonly Buffer[], cuts: readonly number[]): string {
  const cutSet = new Set(cuts);
  let text = '(0';
  let offset = 0;
  messages.forEach((message, i) => {
    if (i > 0) text += cutSet.has(offset) ? `)(${i}` : ` ${i}`;
    offset += message.length;
  });
  return `${text})`;
}

function describeCuts(cuts: readonly number[]): string {
  if (cuts.length === 0) return 'whole';
  const shown = cuts.slice(0, LABEL_CUTS_MAX).join(', ');
  return cuts.length > LABEL_CUTS_MAX
    ? `cuts at ${shown}… (${cuts.length} cuts)`
    : `cuts at ${shown}`;
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i);
}

/** `count` distinct values: `first`, then draws (the caller makes sure that many exist). */
function sample(count: number, draw: () => number, first: readonly number[] = []): number[] {
  const values = new Set<number>(first);
  while (values.size < count) values.add(draw());
  return [...values];
}

/** A uniform integer in `[0, bound)`. */
function int(next: () => number, bound: number): number {
  return Math.floor(next() * bound);
}

/** mulberry32: a small seeded PRNG, uniform in [0, 1); enough to sample test cases. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
