/**
 * What line framing adds per message, in isolation: the chapter's `MessageProtocol` against the
 * same reply through `FramedMessageProtocol` + `LineCodec`, both fed `hello\n` reads (a fresh
 * 6-byte Buffer each, as a transport hands them) round-robin over `CONNS` protocols, writing
 * to a stub transport that only counts bytes. One process, no sockets: the difference is the
 * framing's own JavaScript. Run pinned for steadier figures:
 *
 *   taskset -c 0 npx tsx bench/framing-cost.ts [CONNS=100]
 */
import { FramedMessageProtocol, MessageProtocol } from '../src/cli/chapter-protocol.js';
import { LineCodec } from '../src/codecs/line-codec.js';
import type { Transport } from '../src/transport.js';

const CONNS = Number(process.argv[2] ?? 100);
const MESSAGES = 5_000_000;
/** Rounds after a warm-up one; the best of each is reported (interference only slows). */
const ROUNDS = 5;

const written = { bytes: 0 };
const stub = {
  write(data: Uint8Array) {
    written.bytes += data.length;
  },
  isClosing: () => false,
  pauseReading() {},
  resumeReading() {},
  close() {},
} as unknown as Transport;

const reply = Buffer.from('Message received');
const replyLine = Buffer.from('Message received\n');
const message = Buffer.from('hello\n');

function protocols(framed: boolean): { dataReceived(data: Buffer): unknown }[] {
  return Array.from({ length: CONNS }, () => {
    const protocol = framed
      ? new FramedMessageProtocol(new LineCodec(), replyLine, undefined)
      : new MessageProtocol(reply, undefined);
    protocol.connectionMade(stub);
    return protocol;
  });
}

/** ns per message over MESSAGES reads. */
function run(framed: boolean): number {
  const list = protocols(framed);
  const start = process.hrtime.bigint();
  for (let k = 0; k < MESSAGES; k++) {
    const data = Buffer.allocUnsafe(message.length);
    message.copy(data);
    list[k % CONNS]!.dataReceived(data);
  }
  return Number(process.hrtime.bigint() - start) / MESSAGES;
}

console.log(`node ${process.version}, ${CONNS} protocols, ${MESSAGES.toLocaleString('en')} reads`);
run(false);
run(true);
let bestNone = Number.POSITIVE_INFINITY;
let bestLine = Number.POSITIVE_INFINITY;
for (let round = 0; round < ROUNDS; round++) {
  const none = run(false);
  const line = run(true);
  bestNone = Math.min(bestNone, none);
  bestLine = Math.min(bestLine, line);
  console.log(`none ${none.toFixed(1)} ns/msg   line ${line.toFixed(1)} ns/msg`);
}
console.log(
  `best: none ${bestNone.toFixed(1)}, line ${bestLine.toFixed(1)}: a line costs ${(bestLine - bestNone).toFixed(1)} ns more`,
);
if (written.bytes === 0) throw new Error('nothing was written');
