/**
 * Guarded callbacks, in memory: a callback that throws, or whose promise rejects, fails its own
 * connection with a `ProtocolCallbackError` naming it; the owner hears of it; `connectionLost`
 * gets the error (except when `connectionLost` itself failed: that is only reported); other
 * connections carry on.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConnectionRegistry } from '../../src/connection-registry.js';
import { InvalidArgumentError, ProtocolCallbackError } from '../../src/errors.js';
import { NO_LIMITS } from '../../src/stream-transport.js';
import { MemoryTransport } from '../../src/testing/index.js';
import {
  BufferedRecordingProtocol,
  FlowRecordingProtocol,
  grammarViolations,
  type RecordingBehaviour,
  type RecordingProtocol,
} from '../helpers/recording-protocol.js';

const boom = new Error('boom');
const fail = (): never => {
  throw boom;
};
const reject = (): Promise<void> => Promise.reject(boom);

/** One way to make a callback fail, and the calls that get it to run. */
interface Case {
  readonly callback: string;
  readonly protocol: () => RecordingProtocol;
  readonly trigger: (transport: MemoryTransport) => void;
}

const flow = (behaviour: RecordingBehaviour) => () => new FlowRecordingProtocol(behaviour);
const buffered = (behaviour: RecordingBehaviour) => () =>
  new BufferedRecordingProtocol(behaviour, [3]);

class ThrowingGetBuffer extends BufferedRecordingProtocol {
  override getBuffer(): Uint8Array {
    throw boom;
  }
}

const overHigh = (transport: MemoryTransport) => {
  transport.setWriteBufferLimits({ high: 1, low: 0 });
  transport.peerStopsReading();
  transport.write(Buffer.from('ab'));
};

const THROWING: readonly Case[] = [
  { callback: 'connectionMade', protocol: flow({ onMade: fail }), trigger: () => {} },
  { callback: 'dataReceived', protocol: flow({ onData: fail }), trigger: (t) => t.receive('x') },
  { callback: 'eofReceived', protocol: flow({ onEof: fail }), trigger: (t) => t.receiveEof() },
  { callback: 'pauseWriting', protocol: flow({ onPause: fail }), trigger: overHigh },
  {
    callback: 'resumeWriting',
    protocol: flow({ onResume: fail }),
    trigger: (t) => {
      overHigh(t);
      t.peerReads();
    },
  },
  {
    callback: 'getBuffer',
    protocol: () => new ThrowingGetBuffer(),
    trigger: (t) => t.receive('x'),
  },
  {
    callback: 'bufferUpdated',
    protocol: buffered({ onData: fail }),
    trigger: (t) => t.receive('x'),
  },
];

const REJECTING: readonly Case[] = [
  { callback: 'connectionMade', protocol: flow({ onMade: reject }), trigger: () => {} },
  { callback: 'dataReceived', protocol: flow({ onData: reject }), trigger: (t) => t.receive('x') },
  {
    callback: 'bufferUpdated',
    protocol: buffered({ onData: reject }),
    trigger: (t) => t.receive('x'),
  },
];

function lostWith(protocol: RecordingProtocol): Error | undefined {
  const last = protocol.events.at(-1);
  assert.equal(last?.kind, 'lost');
  return last.kind === 'lost' ? last.error : undefined;
}

function assertFailedBy(callback: string, protocol: RecordingProtocol, t: MemoryTransport): void {
  assert.equal(t.reportedErrors.length, 1, 'reported once');
  const error = t.reportedErrors[0];
  assert.ok(error instanceof ProtocolCallbackError);
  assert.equal(error.callback, callback);
  assert.equal(error.code, 'ERR_AIONET_CALLBACK_FAILED');
  assert.equal(error.cause, boom);
  assert.match(error.message, new RegExp(`protocol\\.${callback}\\(\\) failed: boom`));
  assert.equal(lostWith(protocol), error, 'connectionLost gets the same error');
  assert.equal(t.aborted, true, 'a failed callback resets the connection');
  assert.deepEqual(grammarViolations(protocol.events), []);
  assert.equal(protocol.kinds().filter((kind) => kind === 'lost').length, 1);
}

describe('a callback that throws', () => {
  for (const { callback, protocol: make, trigger } of THROWING) {
    it(`${callback}: fails the connection with a ProtocolCallbackError naming it`, () => {
      const protocol = make();
      const transport = new MemoryTransport(protocol).start();
      trigger(transport);
      assertFailedBy(callback, protocol, transport);
    });
  }

  it('connectionLost: only reported, once, and the transport is gone', () => {
    const protocol = flow({ onLost: fail })();
    const transport = new MemoryTransport(protocol).start();
    transport.close();
    assert.equal(transport.closed, true);
    assert.equal(transport.reportedErrors.length, 1);
    const error = transport.reportedErrors[0];
    assert.ok(error instanceof ProtocolCallbackError);
    assert.equal(error.callback, 'connectionLost');
    assert.equal(lostWith(protocol), undefined);
    assert.deepEqual(grammarViolations(protocol.events), []);
  });

  it('getBuffer returning an empty buffer fails the connection as getBuffer', () => {
    class Empty extends BufferedRecordingProtocol {
      override getBuffer(): Uint8Array {
        return new Uint8Array(0);
      }
    }
    const protocol = new Empty();
    const transport = new MemoryTransport(protocol).start();
    transport.receive('x');
    const error = transport.reportedErrors[0];
    assert.ok(error instanceof ProtocolCallbackError);
    assert.equal(error.callback, 'getBuffer');
    assert.ok(error.cause instanceof InvalidArgumentError);
    assert.equal(lostWith(protocol), error);
  });

  it('a thrown non-Error still names the callback and keeps the value as the cause', () => {
    const protocol = flow({
      onData: () => {
        throw 'a string';
      },
    })();
    const transport = new MemoryTransport(protocol).start();
    transport.receive('x');
    const error = transport.reportedErrors[0];
    assert.ok(error instanceof ProtocolCallbackError);
    assert.equal(error.cause, 'a string');
    assert.match(error.message, /a string/);
  });

  it('drops the rest of a chunk and everything queued after the failure', () => {
    let calls = 0;
    const protocol = buffered({
      onData: () => {
        if (++calls === 2) fail();
      },
    })();
    const transport = new MemoryTransport(protocol).start();
    transport.pauseReading();
    transport.receive('abcdefgh');
    transport.receive('ijk');
    transport.resumeReading();
    assert.equal(protocol.received().toString(), 'abcdef');
    assert.deepEqual(protocol.kinds(), ['made', 'data', 'data', 'lost']);
  });
});

describe('a callback whose promise rejects', () => {
  for (const { callback, protocol: make, trigger } of REJECTING) {
    it(`${callback}: fails the connection once the promise rejects`, async () => {
      const protocol = make();
      const transport = new MemoryTransport(protocol).start();
      trigger(transport);
      assert.equal(transport.closed, false, 'nothing happens before the rejection');
      await protocol.lost;
      assertFailedBy(callback, protocol, transport);
    });
  }

  it('turns a graceful close still flushing into a reset with the error', async () => {
    const protocol = flow({ onData: reject })();
    const transport = new MemoryTransport(protocol, { peerReading: false }).start();
    transport.write(Buffer.from('pending'));
    transport.receive('x');
    transport.close();
    assert.equal(transport.closed, false);
    await protocol.lost;
    assertFailedBy('dataReceived', protocol, transport);
  });

  it('is what connectionLost reports, even when a reset was already on its way', async () => {
    // The fault this side caused is the story the protocol should hear, not the reset it led to.
    let rejectLater: (error: Error) => void = () => {};
    const protocol = flow({
      onData: () =>
        new Promise<void>((_resolve, rejectPromise) => {
          rejectLater = rejectPromise;
        }),
    })();
    const transport = new MemoryTransport(protocol, { autoFlush: false }).start();
    transport.receive('x');
    transport.flush();
    transport.reset();
    rejectLater(boom);
    await new Promise((resolve) => setImmediate(resolve));
    transport.flush();
    assertFailedBy('dataReceived', protocol, transport);
  });

  it('after connectionLost: only reported', async () => {
    let rejectLater: (error: Error) => void = () => {};
    const protocol = flow({
      onData: () =>
        new Promise<void>((_resolve, rejectPromise) => {
          rejectLater = rejectPromise;
        }),
    })();
    const transport = new MemoryTransport(protocol).start();
    transport.receive('x');
    transport.close();
    assert.equal(lostWith(protocol), undefined);
    rejectLater(boom);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(transport.reportedErrors.length, 1);
    assert.equal((transport.reportedErrors[0] as ProtocolCallbackError).callback, 'dataReceived');
    assert.deepEqual(grammarViolations(protocol.events), []);
  });
});

describe('one failing connection', () => {
  it('leaves the others alone, and its owner hears of it', () => {
    const reported: { error: Error; peer: unknown }[] = [];
    const registry = new ConnectionRegistry({
      limits: NO_LIMITS,
      onError: (error, context) => {
        reported.push({ error, peer: context.transport?.getExtraInfo('peername') });
      },
    });
    const bad = flow({ onData: fail })();
    const good = flow({ onData: (data, t) => t.write(data) })();
    const badTransport = new MemoryTransport(bad, { owner: registry }).start();
    const goodTransport = new MemoryTransport(good, { owner: registry }).start();
    registry.add(badTransport);
    registry.add(goodTransport);
    badTransport.receive('x');
    goodTransport.receive('still here');
    assert.equal(registry.size, 1);
    assert.equal(reported.length, 1);
    assert.ok(reported[0]?.error instanceof ProtocolCallbackError);
    assert.equal(goodTransport.written().toString(), 'still here');
    assert.equal(goodTransport.closed, false);
    goodTransport.close();
    assert.equal(registry.size, 0);
  });
});
