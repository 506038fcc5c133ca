/**
 * The call grammar under every ordering, in memory: every sequence of close, abort, writeEof,
 * the peer's EOF, reset and close, writes, data and a stalled peer — on one transport with the
 * test as the peer, and on a connected pair, delivering at once or all together. In each, the
 * grammar holds, `connectionLost` comes exactly once, at the moment it is due, with the right
 * error or none, and no byte is lost or reordered on the way.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConnectionResetError, WriteAfterEofError } from '../../src/errors.js';
import { connectPair, MemoryTransport } from '../../src/testing/index.js';
import {
  BufferedRecordingProtocol,
  grammarViolations,
  type ProtocolEvent,
  RecordingProtocol,
} from '../helpers/recording-protocol.js';

/** Every sequence of `length` items of `alphabet`. */
function* sequences<T>(alphabet: readonly T[], length: number): Generator<T[]> {
  if (length === 0) {
    yield [];
    return;
  }
  for (const head of sequences(alphabet, length - 1)) {
    for (const item of alphabet) yield [...head, item];
  }
}

function losses(events: readonly ProtocolEvent[]): (Error | undefined)[] {
  return events.flatMap((event) => (event.kind === 'lost' ? [event.error] : []));
}

const SINGLE_OPS = [
  'data',
  'write',
  'writeEof',
  'close',
  'abort',
  'eof',
  'reset',
  'closeFromPeer',
  'stopReading',
  'peerReads',
] as const;
type SingleOp = (typeof SINGLE_OPS)[number];

interface Variant {
  readonly keepOpen: boolean;
  readonly buffered: boolean;
}

const VARIANTS: readonly Variant[] = [
  { keepOpen: false, buffered: false },
  { keepOpen: true, buffered: false },
  { keepOpen: false, buffered: true },
  { keepOpen: true, buffered: true },
];

/**
 * Runs `ops` on a transport the test plays the peer of, checking after each op what must hold
 * at that moment, then cleans up and checks the whole story.
 */
function runSingle(ops: readonly SingleOp[], { keepOpen, buffered }: Variant): void {
  const behaviour = { onEof: () => keepOpen };
  const protocol = buffered
    ? new BufferedRecordingProtocol(behaviour, [2])
    : new RecordingProtocol(behaviour);
  const t = new MemoryTransport(protocol).start();
  let sent = '';
  let wrote = '';
  let eofWritten = false;
  let peerEof = false;
  const story = `${ops.join(' ')} (${JSON.stringify({ keepOpen, buffered })})`;
  for (const [index, op] of ops.entries()) {
    const at = `${story}, op #${index} ${op}`;
    const lostBefore = losses(protocol.events).length > 0;
    const closingBefore = t.isClosing();
    const bufferedBefore = t.getWriteBufferSize();
    switch (op) {
      case 'data': {
        if (peerEof) continue; // a peer cannot send after its FIN
        const chunk = `d${index}`;
        t.receive(chunk);
        if (!closingBefore) sent += chunk;
        break;
      }
      case 'write': {
        const chunk = `w${index}`;
        if (eofWritten) {
          assert.throws(() => t.write(chunk, 'utf8'), WriteAfterEofError, at);
        } else {
          t.write(chunk, 'utf8');
          if (!closingBefore) wrote += chunk;
        }
        break;
      }
      case 'writeEof':
        t.writeEof();
        if (!closingBefore) eofWritten = true;
        break;
      case 'close':
        t.close();
        if (!lostBefore && !closingBefore && bufferedBefore === 0) {
          assert.deepEqual(losses(protocol.events), [undefined], `${at}: ends at once`);
        }
        break;
      case 'abort':
        t.abort();
        if (!lostBefore) {
          assert.equal(losses(protocol.events).length, 1, `${at}: ends at once`);
          if (!t.aborted) assert.fail(`${at}: abort not seen by the socket`);
        }
        break;
      case 'eof':
      case 'closeFromPeer':
        if (op === 'eof') t.receiveEof();
        else t.closeFromPeer();
        if (!peerEof && !closingBefore && !lostBefore) {
          assert.equal(protocol.kinds().filter((k) => k === 'eof').length, 1, `${at}: EOF`);
          if (!keepOpen) assert.equal(t.isClosing(), true, `${at}: closes after EOF`);
        }
        peerEof = true;
        break;
      case 'reset':
        t.reset();
        if (!lostBefore) {
          const [error] = losses(protocol.events);
          assert.ok(error instanceof ConnectionResetError, `${at}: reset error`);
        }
        break;
      case 'stopReading':
        t.peerStopsReading();
        break;
      case 'peerReads':
        t.peerReads();
        break;
    }
    const violations = grammarViolations(protocol.events);
    assert.deepEqual(
      violations.filter((v) => v !== 'connectionLost never called'),
      [],
      at,
    );
    assert.ok(losses(protocol.events).length <= 1, `${at}: connectionLost twice`);
    assert.equal(protocol.received().toString(), sent, `${at}: bytes received`);
  }
  assert.equal(t.written().toString(), wrote, `${story}: bytes written`);
  const lostBeforeCleanup = losses(protocol.events);
  if (lostBeforeCleanup[0] !== undefined) {
    assert.ok(ops.includes('reset'), `${story}: an error without a reset`);
  }
  t.peerReads();
  t.abort();
  assert.deepEqual(grammarViolations(protocol.events), [], story);
  assert.equal(losses(protocol.events).length, 1, `${story}: connectionLost once`);
  if (protocol instanceof BufferedRecordingProtocol) {
    assert.deepEqual(protocol.bufferProblems, [], story);
  }
}

describe('the grammar on one transport, the test playing the peer', () => {
  for (const variant of VARIANTS) {
    it(`holds for every sequence of 3 operations (${JSON.stringify(variant)})`, () => {
      let count = 0;
      for (const ops of sequences(SINGLE_OPS, 3)) {
        runSingle(ops, variant);
        count++;
      }
      assert.equal(count, SINGLE_OPS.length ** 3);
    });
  }

  it('holds for every sequence of 5 endings (close, abort, writeEof, eof, reset)', () => {
    const endings = ['close', 'abort', 'writeEof', 'eof', 'reset'] as const;
    for (const ops of sequences(endings, 5)) {
      for (const variant of VARIANTS) runSingle(['stopReading', 'write', ...ops], variant);
    }
  });
});

const PAIR_OPS = [
  'client write',
  'server write',
  'client writeEof',
  'server writeEof',
  'client close',
  'server close',
  'client abort',
  'server abort',
  'server pauseReading',
  'server resumeReading',
] as const;
type PairOp = (typeof PAIR_OPS)[number];

function runPair(ops: readonly PairOp[], keepOpen: boolean, autoFlush: boolean): void {
  const client = new RecordingProtocol({ onEof: () => keepOpen });
  const server = new RecordingProtocol({ onEof: () => keepOpen });
  const pair = connectPair(client, server, { autoFlush });
  const sides = { client: pair.client, server: pair.server };
  const aborted = { client: false, server: false };
  const story = `${ops.join(', ')} (keepOpen ${keepOpen}, autoFlush ${autoFlush})`;
  for (const [index, op] of ops.entries()) {
    const [side, action] = op.split(' ') as ['client' | 'server', string];
    const t = sides[side];
    switch (action) {
      case 'write':
        try {
          t.write(`${side[0]}${index}`, 'utf8');
        } catch (error) {
          assert.ok(error instanceof WriteAfterEofError, story);
        }
        break;
      case 'writeEof':
        t.writeEof();
        break;
      case 'close':
        t.close();
        break;
      case 'abort':
        if (!t.closed) aborted[side] = true;
        t.abort();
        break;
      case 'pauseReading':
        t.pauseReading();
        break;
      case 'resumeReading':
        t.resumeReading();
        break;
    }
  }
  pair.flush();
  for (const [name, protocol, other, peer] of [
    ['client', client, 'server', pair.server],
    ['server', server, 'client', pair.client],
  ] as const) {
    const [error] = losses(protocol.events);
    if (error !== undefined) {
      assert.ok(error instanceof ConnectionResetError, `${story}: ${name} lost with ${error}`);
      assert.ok(aborted[other], `${story}: ${name} was reset but the ${other} never aborted`);
    }
    const received = protocol.received().toString();
    assert.ok(peer.written().toString().startsWith(received), `${story}: ${name} bytes`);
    if (protocol.kinds().includes('eof')) {
      assert.equal(received, peer.written().toString(), `${story}: ${name} got all before EOF`);
    }
  }
  pair.server.resumeReading();
  pair.client.abort();
  pair.server.abort();
  pair.flush();
  for (const protocol of [client, server]) {
    assert.deepEqual(grammarViolations(protocol.events), [], story);
  }
}

describe('the grammar on a connected pair', () => {
  for (const autoFlush of [true, false]) {
    for (const keepOpen of [true, false]) {
      it(`holds for every sequence of 3 operations (keepOpen ${keepOpen}, autoFlush ${autoFlush})`, () => {
        for (const ops of sequences(PAIR_OPS, 3)) runPair(ops, keepOpen, autoFlush);
      });
    }
  }
});
