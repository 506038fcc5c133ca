/**
 * Write flow control, in memory: pause strictly over `high`, resume at or under `low`, exactly
 * at the edges; limits re-evaluated when set; invalid limits refused; the safe default for a
 * protocol without `pauseWriting`, and how it combines with the protocol's own pauseReading.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_WRITE_HIGH_WATER, DEFAULT_WRITE_LOW_WATER } from '../../src/constants.js';
import { InvalidArgumentError } from '../../src/errors.js';
import { MemoryTransport } from '../../src/testing/index.js';
import {
  FlowRecordingProtocol,
  grammarViolations,
  RecordingProtocol,
} from '../helpers/recording-protocol.js';

/** A flow-aware protocol on a transport whose peer does not read, with limits high/low. */
function stalled(high: number, low: number) {
  const protocol = new FlowRecordingProtocol();
  const transport = new MemoryTransport(protocol, {
    peerReading: false,
    writeBufferLimits: { high, low },
  }).start();
  const flow = () => protocol.kinds().filter((kind) => kind === 'pause' || kind === 'resume');
  return { protocol, transport, flow };
}

describe('pauseWriting', () => {
  it('does not come at size == high, comes at high + 1', () => {
    const { transport, flow } = stalled(10, 4);
    transport.write(Buffer.alloc(10));
    assert.equal(transport.getWriteBufferSize(), 10);
    assert.deepEqual(flow(), []);
    transport.write(Buffer.alloc(1));
    assert.deepEqual(flow(), ['pause']);
  });

  it('comes once while over high, whatever is written', () => {
    const { transport, flow } = stalled(10, 4);
    transport.write(Buffer.alloc(11));
    transport.write(Buffer.alloc(100));
    transport.writeLines([Buffer.alloc(5), Buffer.alloc(5)]);
    assert.deepEqual(flow(), ['pause']);
  });

  it('comes from writeLines as from write', () => {
    const { transport, flow } = stalled(3, 0);
    transport.writeLines([Buffer.alloc(2), Buffer.alloc(2)]);
    assert.deepEqual(flow(), ['pause']);
  });

  it('with high = 0: any byte left in the buffer pauses', () => {
    const { transport, flow } = stalled(0, 0);
    transport.write(Buffer.alloc(1));
    assert.deepEqual(flow(), ['pause']);
    transport.peerReads();
    assert.deepEqual(flow(), ['pause', 'resume']);
  });
});

describe('resumeWriting', () => {
  it('does not come at low + 1, comes at low', () => {
    const { transport, flow } = stalled(10, 4);
    transport.write(Buffer.alloc(11));
    transport.peerReads(6);
    assert.equal(transport.getWriteBufferSize(), 5);
    assert.deepEqual(flow(), ['pause']);
    transport.peerReads(1);
    assert.deepEqual(flow(), ['pause', 'resume']);
  });

  it('comes when a single read crosses from over high to under low', () => {
    const { transport, flow } = stalled(10, 4);
    transport.write(Buffer.alloc(20));
    transport.peerReads();
    assert.deepEqual(flow(), ['pause', 'resume']);
  });

  it('alternates with pauseWriting through many rounds', () => {
    const { protocol, transport, flow } = stalled(8, 2);
    for (let round = 0; round < 5; round++) {
      transport.write(Buffer.alloc(9));
      transport.peerReads(7);
      transport.peerReads();
    }
    assert.deepEqual(flow(), Array(5).fill(['pause', 'resume']).flat());
    transport.close();
    transport.peerReads();
    assert.deepEqual(grammarViolations(protocol.events), []);
  });

  it('can be followed by writes that pause again, from inside resumeWriting', () => {
    let refills = 2;
    const protocol = new FlowRecordingProtocol({
      onResume: (t) => {
        if (refills-- > 0) t.write(Buffer.alloc(11));
      },
    });
    const transport = new MemoryTransport(protocol, {
      peerReading: false,
      writeBufferLimits: { high: 10, low: 0 },
    }).start();
    transport.write(Buffer.alloc(11));
    for (let i = 0; i < 3; i++) transport.peerReads();
    assert.deepEqual(protocol.kinds().slice(1), [
      'pause',
      'resume',
      'pause',
      'resume',
      'pause',
      'resume',
    ]);
  });
});

describe('setWriteBufferLimits', () => {
  it('re-evaluates at once: lowering high pauses, raising low resumes', () => {
    const { transport, flow } = stalled(100, 10);
    transport.write(Buffer.alloc(8));
    transport.setWriteBufferLimits({ high: 8, low: 2 });
    assert.deepEqual(flow(), []);
    transport.setWriteBufferLimits({ high: 7, low: 2 });
    assert.deepEqual(flow(), ['pause']);
    transport.setWriteBufferLimits({ high: 20, low: 7 });
    assert.deepEqual(flow(), ['pause']);
    transport.setWriteBufferLimits({ high: 20, low: 8 });
    assert.deepEqual(flow(), ['pause', 'resume']);
  });

  it('defaults: 64 KiB and a quarter; low alone sets high to four times low', () => {
    const { transport } = stalled(1, 0);
    transport.setWriteBufferLimits();
    assert.deepEqual(transport.getWriteBufferLimits(), {
      high: DEFAULT_WRITE_HIGH_WATER,
      low: DEFAULT_WRITE_LOW_WATER,
    });
    transport.setWriteBufferLimits({ high: 101 });
    assert.deepEqual(transport.getWriteBufferLimits(), { high: 101, low: 25 });
    transport.setWriteBufferLimits({ low: 10 });
    assert.deepEqual(transport.getWriteBufferLimits(), { high: 40, low: 10 });
    transport.setWriteBufferLimits({ high: 5, low: 5 });
    assert.deepEqual(transport.getWriteBufferLimits(), { high: 5, low: 5 });
  });

  it('refuses invalid limits at once and keeps the old ones', () => {
    const { transport } = stalled(10, 4);
    const invalid: { high?: number; low?: number }[] = [
      { high: -1 },
      { low: -1, high: 10 },
      { high: 4, low: 5 },
      { high: 1.5 },
      { high: Number.NaN },
      { high: Number.POSITIVE_INFINITY },
      { high: 2 ** 60 },
      { high: '10' as unknown as number },
    ];
    for (const limits of invalid) {
      assert.throws(
        () => transport.setWriteBufferLimits(limits),
        InvalidArgumentError,
        JSON.stringify(limits),
      );
    }
    assert.deepEqual(transport.getWriteBufferLimits(), { high: 10, low: 4 });
    assert.throws(
      () => new MemoryTransport(new RecordingProtocol(), { writeBufferLimits: { high: -5 } }),
      InvalidArgumentError,
    );
  });

  it('after close: sets the limits, calls nothing', () => {
    const { transport, flow } = stalled(100, 10);
    transport.write(Buffer.alloc(50));
    transport.close();
    transport.setWriteBufferLimits({ high: 1, low: 0 });
    assert.deepEqual(transport.getWriteBufferLimits(), { high: 1, low: 0 });
    assert.deepEqual(flow(), []);
  });
});

describe('the safe default (no pauseWriting)', () => {
  function safeDefault() {
    const protocol = new RecordingProtocol();
    const transport = new MemoryTransport(protocol, {
      peerReading: false,
      writeBufferLimits: { high: 10, low: 4 },
    }).start();
    return { protocol, transport };
  }

  it('pauses reading strictly over high, resumes it at low, and delivers what waited', () => {
    const { protocol, transport } = safeDefault();
    transport.write(Buffer.alloc(10));
    assert.equal(transport.reading, true);
    transport.write(Buffer.alloc(1));
    assert.equal(transport.reading, false);
    assert.equal(transport.isReading(), true, 'isReading shows only the protocol’s own pause');
    transport.receive('waits');
    assert.equal(protocol.received().length, 0);
    transport.peerReads(6);
    assert.equal(transport.reading, false);
    transport.peerReads(1);
    assert.equal(transport.reading, true);
    assert.equal(protocol.received().toString(), 'waits');
    assert.deepEqual(transport.calls, ['pauseReading', 'resumeReading']);
  });

  it('keeps the protocol’s own pause: user pause, flow pause, flow resume', () => {
    const { protocol, transport } = safeDefault();
    transport.pauseReading();
    transport.write(Buffer.alloc(11));
    transport.receive('a');
    transport.peerReads();
    assert.equal(transport.reading, false);
    assert.equal(protocol.received().length, 0);
    transport.resumeReading();
    assert.equal(protocol.received().toString(), 'a');
    assert.deepEqual(transport.calls, ['pauseReading', 'resumeReading']);
  });

  it('keeps the flow pause: flow pause, user pause, user resume, flow resume', () => {
    const { protocol, transport } = safeDefault();
    transport.write(Buffer.alloc(11));
    transport.pauseReading();
    assert.equal(transport.isReading(), false);
    transport.resumeReading();
    transport.receive('a');
    assert.equal(protocol.received().length, 0);
    assert.equal(transport.reading, false);
    transport.peerReads();
    assert.equal(protocol.received().toString(), 'a');
  });

  it('leaves writing alone for a protocol with pauseWriting', () => {
    const { transport } = stalled(10, 4);
    transport.write(Buffer.alloc(11));
    assert.equal(transport.reading, true);
  });
});
