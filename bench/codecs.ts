/**
 * Micro-benchmark of the framing decoders: decode throughput (MB/s of input, frames/s) of the
 * line and length-prefixed codecs for several frame sizes, fed the way a server feeds them —
 * one push per socket read, then next() until undefined.
 *
 * Run: npx tsx bench/codecs.ts            (about 25 s; one core)
 *      npx tsx bench/codecs.ts '64 B'     (only the cases whose row contains the text)
 *
 * Reads are READ_SIZE bytes, so small frames mostly lie inside a read (zero-copy views) and
 * large ones span reads (one copy each), as on a real connection.
 *
 * Rates are per second of this process's CPU time (user + system, all its threads, so GC
 * helpers count against it): on a shared machine wall time also counts the time other
 * processes held the core. The wall-clock rate is printed beside it.
 */
import { performance } from 'node:perf_hooks';
import {
  type Codec,
  type Decoder,
  type FrameVisitor,
  LengthPrefixedCodec,
  LineCodec,
} from '../src/codecs/index.js';

/** Bytes per simulated socket read: Node's default `highWaterMark` for sockets is 64 KiB. */
const READ_SIZE = 64 * 1024;
/** Bytes of encoded input per case, built once and decoded over and over. */
const STREAM_SIZE = 16 * 1024 * 1024;
/** Milliseconds of untimed decoding first, so the JIT has optimised the hot path. */
const WARMUP_MS = 300;
/** Milliseconds measured per case: long enough to average out GC pauses, short enough to run often. */
const MEASURE_MS = 1500;
const MB = 1e6;
const KiB = 1024;

const FRAME_SIZES = [5, 64, KiB, 64 * KiB, 1024 * KiB] as const;

interface Case {
  readonly name: string;
  readonly frameSize: number;
  /** Makes a fresh codec able to carry frames of `frameSize` bytes. */
  readonly make: () => Codec<Buffer, Uint8Array> & VisitingDecoder;
}

interface Result {
  readonly name: string;
  readonly frameSize: number;
  /** Input decoded per CPU second. */
  readonly mbPerSecond: number;
  readonly framesPerSecond: number;
  /** Input decoded per wall-clock second. */
  readonly wallMbPerSecond: number;
}

function cases(): Case[] {
  const list: Case[] = [];
  for (const frameSize of FRAME_SIZES) {
    const maxLength = Math.max(frameSize, 64 * KiB);
    list.push({ name: 'line \\n', frameSize, make: () => new LineCodec({ maxLength }) });
  }
  list.push({
    name: 'line \\r\\n',
    frameSize: 64,
    make: () => new LineCodec({ delimiter: '\r\n' }),
  });
  for (const frameSize of FRAME_SIZES) {
    list.push({ name: 'length u32be', frameSize, make: () => new LengthPrefixedCodec() });
  }
  return list;
}

/** `frameSize` bytes of printable ASCII, so no byte is a delimiter. */
function payload(frameSize: number, seed: number): Buffer {
  const bytes = Buffer.allocUnsafe(frameSize);
  for (let i = 0; i < frameSize; i++) bytes[i] = 0x21 + ((i * 7 + seed) % 90);
  return bytes;
}

/** The encoded stream cut into reads, and how many frames it holds. */
function input(codec: Codec<Buffer, Uint8Array>, frameSize: number) {
  const frames: Buffer[] = [];
  let size = 0;
  for (let i = 0; size < STREAM_SIZE || frames.length < 4; i++) {
    const encoded = codec.encode(payload(frameSize, i));
    frames.push(encoded);
    size += encoded.length;
  }
  const stream = Buffer.concat(frames);
  const reads: Buffer[] = [];
  // Each read is its own copy, as a socket hands out, not a view of one big buffer.
  for (let at = 0; at < stream.length; at += READ_SIZE) {
    reads.push(Buffer.from(stream.subarray(at, at + READ_SIZE)));
  }
  return { reads, bytes: stream.length, frames: frames.length };
}

/** How frames are taken: a Buffer each from `next()`, or ranges from `forEachFrame`. */
type Mode = 'next' | 'visit';

/** Decodes every read once; returns the frames seen, checked against what was encoded. */
function pass(decoder: VisitingDecoder, reads: readonly Buffer[], mode: Mode): number {
  let frames = 0;
  let bytes = 0;
  for (const read of reads) {
    decoder.push(read);
    if (mode === 'next') {
      for (let frame = decoder.next(); frame !== undefined; frame = decoder.next()) frames++;
    } else {
      frames += decoder.forEachFrame((_chunk, start, end) => {
        // Touch the range so the visit is not optimised away.
        bytes += end - start;
        return undefined;
      });
    }
  }
  return bytes < 0 ? -1 : frames;
}

type VisitingDecoder = Decoder<Buffer> & { forEachFrame(visit: FrameVisitor): number };

function run(benchCase: Case, mode: Mode): Result {
  const codec = benchCase.make();
  const { reads, bytes, frames } = input(codec, benchCase.frameSize);
  const warmUntil = performance.now() + WARMUP_MS;
  while (performance.now() < warmUntil) pass(codec, reads, mode);
  let passes = 0;
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  let elapsed = 0;
  do {
    const seen = pass(codec, reads, mode);
    if (seen !== frames) throw new Error(`${benchCase.name}: decoded ${seen} of ${frames} frames`);
    passes++;
    elapsed = performance.now() - start;
  } while (elapsed < MEASURE_MS);
  const cpu = process.cpuUsage(cpuStart);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  return {
    name: mode === 'next' ? benchCase.name : `${benchCase.name} (visit)`,
    frameSize: benchCase.frameSize,
    mbPerSecond: (bytes * passes) / MB / cpuSeconds,
    framesPerSecond: (frames * passes) / cpuSeconds,
    wallMbPerSecond: (bytes * passes) / MB / (elapsed / 1000),
  };
}

function formatSize(bytes: number): string {
  if (bytes >= 1024 * KiB) return `${bytes / (1024 * KiB)} MiB`;
  if (bytes >= KiB) return `${bytes / KiB} KiB`;
  return `${bytes} B`;
}

function row(cells: readonly string[]): string {
  const widths = [22, 8, 10, 14, 10, 11];
  return cells.map((cell, i) => cell.padStart(widths[i] ?? 10)).join(' ');
}

function main(): void {
  console.log(
    `node ${process.version}, reads of ${formatSize(READ_SIZE)}, ${MEASURE_MS} ms per case`,
  );
  console.log(row(['codec', 'frame', 'MB/s in', 'frames/s', 'ns/frame', 'wall MB/s']));
  const only = process.argv[2];
  for (const benchCase of cases()) {
    if (
      only !== undefined &&
      !`${benchCase.name} ${formatSize(benchCase.frameSize)}`.includes(only)
    ) {
      continue;
    }
    for (const mode of ['next', 'visit'] as const) {
      const result = run(benchCase, mode);
      console.log(
        row([
          result.name,
          formatSize(result.frameSize),
          result.mbPerSecond.toFixed(0),
          Math.round(result.framesPerSecond).toLocaleString('en-US'),
          (1e9 / result.framesPerSecond).toFixed(1),
          result.wallMbPerSecond.toFixed(0),
        ]),
      );
    }
  }
}

main();
