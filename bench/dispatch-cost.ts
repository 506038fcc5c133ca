/**
 * What the native loop's JavaScript costs per message, with the caches as cold as a busy server
 * leaves them: batches of `hello\n` records, each for a different one of `CONNS` connections
 * (`NativeTransport` + the chapter's `MessageProtocol`), handed to `NativeLoop.onBatch` by a
 * stub engine that takes every reply whole (the replies a batch hands over are dropped after the
 * call, as the addon performs them after it). Between two batches a sweep through
 * `SWEEP_KB` of memory stands in for the kernel's work between two wake-ups (at 1,000
 * connections its socket buffers and structures evict the transports from the caches). Only
 * `onBatch` is timed. One process, no sockets: the figure is the dispatch, the transport and
 * the protocol, the part of a message's user CPU that is ours in JavaScript.
 *
 *   taskset -c 0 npx tsx bench/dispatch-cost.ts [BATCH=4] [CONNS=1000] [SWEEP_KB=4096]
 */
import { MessageProtocol } from '../src/cli/chapter-protocol.js';
import type { NativeBinding } from '../src/native/binding.js';
import { NativeLoop } from '../src/native/loop.js';
import { NativeTransport } from '../src/native/native-transport.js';

const BATCH = Number(process.argv[2] ?? 4);
const CONNS = Number(process.argv[3] ?? 1000);
const SWEEP_KB = Number(process.argv[4] ?? 4096);
const BATCHES = 20_000;
/** Rounds after a warm-up one; the median is reported. */
const ROUNDS = 5;
const EV_DATA = 1;
const SLOT_BITS = 22;

let records: Int32Array = new Int32Array(0);
let triples: Int32Array = new Int32Array(0);
const engine = {
  init: (r: Int32Array, data: Uint8Array) => {
    records = r;
    data.set(Buffer.from('hello\n'), 0);
    return 0;
  },
  setWriteBatch: (t: Int32Array) => {
    triples = t;
    return 0;
  },
  writeBatch: (count: number) => {
    for (let i = 0; i < count; i++) triples[i * 3 + 1] = 0;
    return 0;
  },
} as unknown as NativeBinding;

const loop = new NativeLoop(engine);
const owner = { transportLost() {}, reportError() {} };
const reply = Buffer.from('Message received');
for (let slot = 0; slot < CONNS; slot++) {
  const protocol = new MessageProtocol(reply, undefined);
  new NativeTransport(loop, (1 << SLOT_BITS) | slot, protocol, owner).start();
}

const sweep = new Uint8Array(SWEEP_KB * 1024);
let sink = 0;
function evict(): void {
  for (let i = 0; i < sweep.length; i += 64) sink += sweep[i]!++;
}

/** ns per message over BATCHES batches, connections drawn in a shuffled order. */
function run(): number {
  const order = Array.from({ length: CONNS }, (_, i) => i);
  let next = CONNS;
  let elapsed = 0n;
  for (let b = 0; b < BATCHES; b++) {
    for (let k = 0; k < BATCH; k++) {
      if (next === CONNS) {
        for (let i = CONNS - 1; i > 0; i--) {
          const j = Math.floor(Math.random() * (i + 1));
          [order[i], order[j]] = [order[j]!, order[i]!];
        }
        next = 0;
      }
      records.set([EV_DATA, (1 << SLOT_BITS) | order[next++]!, 0, 6], k * 4);
    }
    if (SWEEP_KB > 0) evict();
    const start = process.hrtime.bigint();
    loop.onBatch(BATCH);
    elapsed += process.hrtime.bigint() - start;
    triples[triples.length - 1] = 0;
  }
  return Number(elapsed) / (BATCHES * BATCH);
}

console.log(
  `node ${process.version}, batches of ${BATCH} over ${CONNS} connections, ${SWEEP_KB} KiB swept between batches`,
);
run();
const figures = Array.from({ length: ROUNDS }, run).sort((a, b) => a - b);
console.log(
  `onBatch: ${figures[ROUNDS >> 1]!.toFixed(0)} ns per message (median of ${ROUNDS}; rounds ${figures.map((f) => f.toFixed(0)).join(', ')})`,
);
if (sink === -1) console.log(sink);
