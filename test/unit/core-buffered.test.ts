/**
 * BufferedProtocol, in memory: every chunking of the input against buffers of every small size,
 * and reading paused in the middle of a chunk — the rest must come after resume, in order, with
 * nothing lost or repeated, EOF last.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ProtocolCallbacks } from '../../src/protocol.js';
import { MemoryTransport, replaySplits } from '../../src/testing/index.js';
import {
  BufferedRecordingProtocol,
  grammarViolations,
  type RecordingBehaviour,
} from '../helpers/recording-protocol.js';

const INPUT = 'The quick brown fox jumps';

function open(behaviour: RecordingBehaviour, sizes: readonly number[]) {
  const protocol = new BufferedRecordingProtocol(behaviour, sizes);
  const transport = new MemoryTransport(protocol).start();
  return { protocol, transport };
}

describe('BufferedProtocol reads', () => {
  it('every split of the input into buffers of every size from 1 to n', () => {
    for (let size = 1; size <= INPUT.length + 1; size++) {
      replaySplits(
        INPUT,
        (chunks) => {
          const { protocol, transport } = open({}, [size]);
          for (const chunk of chunks) transport.receive(chunk);
          assert.equal(protocol.received().toString(), INPUT, `buffers of ${size}`);
          assert.deepEqual(protocol.bufferProblems, []);
          // Each read fills the buffer it was given, except the last piece of a chunk.
          const pieces = protocol.events.flatMap((e) =>
            e.kind === 'data' ? [e.bytes.length] : [],
          );
          const expected = chunks.flatMap((chunk) => {
            const full = Array(Math.floor(chunk.length / size)).fill(size);
            return chunk.length % size === 0 ? full : [...full, chunk.length % size];
          });
          assert.deepEqual(pieces, expected);
        },
        { random: 8 },
      );
    }
  });

  it('with sizes that change from one getBuffer to the next', () => {
    replaySplits(INPUT, (chunks) => {
      const { protocol, transport } = open({}, [1, 2, 3, 5, 8, 13]);
      for (const chunk of chunks) transport.receive(chunk);
      assert.equal(protocol.received().toString(), INPUT);
      assert.deepEqual(protocol.bufferProblems, []);
    });
  });

  it('hints at what is left of the read', () => {
    const { protocol, transport } = open({}, [4]);
    transport.receive('0123456789');
    assert.deepEqual(protocol.sizeHints, [10, 6, 2]);
  });
});

describe('BufferedProtocol pausing in the middle of a chunk', () => {
  for (const size of [1, 2, 3, 7]) {
    it(`gets the rest after resume, in order, at every pause point (buffers of ${size})`, () => {
      for (let pauseAt = 1; pauseAt < INPUT.length; pauseAt++) {
        let paused = false;
        const { protocol, transport } = open(
          {
            onData: (_data, t, p) => {
              if (!paused && p.received().length >= pauseAt) {
                paused = true;
                t.pauseReading();
              }
            },
          },
          [size],
        );
        transport.receive(INPUT.slice(0, 10));
        transport.receive(INPUT.slice(10));
        transport.receiveEof();
        const seen = protocol.received().length;
        assert.ok(seen >= pauseAt && seen < pauseAt + size, `paused at ${pauseAt}: saw ${seen}`);
        assert.ok(!protocol.kinds().includes('eof'), 'EOF waits behind the bytes');
        transport.resumeReading();
        assert.equal(protocol.received().toString(), INPUT);
        assert.deepEqual(protocol.kinds().slice(-2), ['eof', 'lost']);
        assert.deepEqual(grammarViolations(protocol.events), []);
        assert.deepEqual(protocol.bufferProblems, []);
      }
    });
  }

  it('pausing again and again, one piece per resume', () => {
    const { protocol, transport } = open({ onData: (_data, t) => t.pauseReading() }, [2]);
    transport.receive('abcdef');
    transport.receive('gh');
    const seen: string[] = [protocol.received().toString()];
    for (let i = 0; i < 4; i++) {
      transport.resumeReading();
      seen.push(protocol.received().toString());
    }
    assert.deepEqual(seen, ['ab', 'abcd', 'abcdef', 'abcdefgh', 'abcdefgh']);
  });

  it('pause and resume inside the same callback changes nothing', () => {
    const { protocol, transport } = open(
      {
        onData: (_data, t) => {
          t.pauseReading();
          t.resumeReading();
        },
      },
      [3],
    );
    transport.receive('abcdefgh');
    transport.receive('ij');
    assert.equal(protocol.received().toString(), 'abcdefghij');
  });

  it('resuming from inside the delivery of the rest keeps the order', () => {
    // While the rest of a paused chunk is fed, the protocol pauses and resumes again: bytes
    // queued behind that chunk must not overtake its remainder.
    let round = 0;
    const { protocol, transport } = open(
      {
        onData: (_data, t) => {
          round++;
          if (round === 1) t.pauseReading();
          if (round === 2) {
            t.pauseReading();
            t.resumeReading();
          }
        },
      },
      [2],
    );
    transport.receive('abcdef');
    transport.receive('gh');
    assert.equal(protocol.received().toString(), 'ab');
    transport.resumeReading();
    assert.equal(protocol.received().toString(), 'abcdefgh');
  });

  it('close while paused drops the rest; connectionLost comes once', () => {
    const { protocol, transport } = open({ onData: (_data, t) => t.pauseReading() }, [2]);
    transport.receive('abcdef');
    transport.close();
    transport.resumeReading();
    assert.equal(protocol.received().toString(), 'ab');
    assert.deepEqual(protocol.kinds(), ['made', 'data', 'lost']);
  });

  it('the safe default pauses mid-chunk too, and the rest follows the drain', () => {
    const protocol = new BufferedRecordingProtocol({ onData: (data, t) => t.write(data) }, [2]);
    const transport = new MemoryTransport(protocol, {
      peerReading: false,
      writeBufferLimits: { high: 3, low: 0 },
    }).start();
    transport.receive('abcdefgh');
    assert.equal(protocol.received().toString(), 'abcd');
    assert.equal(transport.reading, false);
    assert.equal(transport.peerReads().toString(), 'abcd');
    assert.equal(protocol.received().toString(), 'abcdefgh');
    assert.equal(transport.peerReads().toString(), 'efgh');
  });
});

describe('a BufferedProtocol handing the connection over (setProtocol)', () => {
  /** A plain protocol that records what it gets; it never sees connectionMade. */
  function successor() {
    const got: string[] = [];
    const protocol: ProtocolCallbacks = {
      dataReceived: (data) => {
        got.push(data.toString());
      },
      eofReceived: () => {
        got.push('EOF');
        return undefined;
      },
    };
    return { got, protocol };
  }

  it('to a plain protocol from inside bufferUpdated: the rest of the chunk goes to it', () => {
    const next = successor();
    const { protocol, transport } = open(
      {
        onData: (data, t) => {
          if (data.toString() === 'HI') t.setProtocol(next.protocol);
        },
      },
      [2],
    );
    transport.receive('HIrest of it');
    transport.receive('more');
    transport.receiveEof();
    assert.equal(protocol.received().toString(), 'HI');
    assert.deepEqual(next.got, ['rest of it', 'more', 'EOF']);
    assert.deepEqual(transport.reportedErrors, []);
  });

  it('to a plain protocol while paused mid-chunk: the rest goes to it after resume', () => {
    const next = successor();
    const { protocol, transport } = open(
      {
        onData: (_data, t) => {
          t.pauseReading();
          t.setProtocol(next.protocol);
        },
      },
      [2],
    );
    transport.receive('HIrest');
    assert.equal(protocol.received().toString(), 'HI');
    transport.resumeReading();
    assert.deepEqual(next.got, ['rest']);
    assert.deepEqual(transport.reportedErrors, []);
    assert.equal(transport.closed, false);
  });

  it('to another BufferedProtocol: it gets the rest into its own buffers', () => {
    const next = new BufferedRecordingProtocol({}, [3]);
    const { protocol, transport } = open(
      {
        onData: (_data, t) => {
          if (t.getProtocol() !== next) t.setProtocol(next);
        },
      },
      [2],
    );
    transport.receive('HIrest of it');
    assert.equal(protocol.received().toString(), 'HI');
    assert.equal(next.received().toString(), 'rest of it');
    assert.deepEqual(next.sizeHints, [10, 7, 4, 1]);
  });
});
