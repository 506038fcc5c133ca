/**
 * The native loop's batch dispatch, against a scripted engine: records are written by hand into
 * the shared arrays, so every case is exact — a stale id inside a batch, a callback that closes
 * another connection of its batch, a failure in one record, deliveries held while paused, and
 * data copies that do not pin the batch buffer. Needs no addon.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConnectionResetError } from '../../src/errors.js';
import type { NativeBinding } from '../../src/native/binding.js';
import { NativeLoop } from '../../src/native/loop.js';
import { NativeTransport } from '../../src/native/native-transport.js';
import type { StreamTransport } from '../../src/stream-transport.js';
import type { Transport } from '../../src/transport.js';
import {
  FlowRecordingProtocol,
  grammarViolations,
  RecordingProtocol,
} from '../helpers/recording-protocol.js';

const EV_DATA = 1;
const EV_EOF = 3;
const EV_WRITTEN = 4;
const EV_ACCEPTED = 6;
const SLOT_BITS = 22;

/** An engine that records the calls made to it; `init` hands over the batch arrays. */
class ScriptedEngine {
  records: Int32Array = new Int32Array(0);
  data: Uint8Array = new Uint8Array(0);
  readonly calls: string[] = [];
  triples: Int32Array = new Int32Array(0);
  deferredData: Uint8Array = new Uint8Array(0);
  /** The bytes of each deferred write, in the order the engine performed them. */
  readonly deferredBytes: Buffer[] = [];
  readonly binding: NativeBinding;

  constructor() {
    const answer =
      (name: string, value = 0) =>
      (id: number) => {
        this.calls.push(`${name}(${id})`);
        return value;
      };
    this.binding = {
      init: (records, data) => {
        this.records = records;
        this.data = data;
        return 0;
      },
      write: (id: number) => {
        this.calls.push(`write(${id})`);
        return 0;
      },
      setWriteBatch: (triples, data) => {
        this.triples = triples;
        this.deferredData = data;
        return 0;
      },
      // Deferred writes show as the same calls, in order, with their bytes kept.
      writeBatch: (count: number) => {
        for (let i = 0; i < count; i++) {
          const [id, offset, length] = this.triples.subarray(i * 3, i * 3 + 3);
          this.calls.push(`write(${id})`);
          this.deferredBytes.push(
            Buffer.from(this.deferredData.subarray(offset, offset! + length!)),
          );
          this.triples[i * 3 + 1] = 0;
        }
        return 0;
      },
      writev: answer('writev'),
      shutdown: answer('shutdown'),
      close: answer('close', 1),
      abort: answer('abort'),
      setReading: (id: number, on: number) => {
        this.calls.push(`setReading(${id},${on})`);
        return 0;
      },
      setBuffered: answer('setBuffered'),
      readInto: answer('readInto', -11),
      address: () => -9,
      isUnix: () => 0,
      live: () => 0,
      ioUring: () => 0,
      listen: () => -1,
      listenUnix: () => -1,
      listenerWatch: () => 0,
      closeListener: () => 0,
      connect: () => -1,
      connectUnix: () => -1,
    } as NativeBinding;
  }

  /** From now on every deferred write is answered with `answer()` (bytes queued, or -errno). */
  answerWrites(answer: () => number): void {
    this.binding.writeBatch = (count: number) => {
      for (let i = 0; i < count; i++) this.triples[i * 3 + 1] = answer();
      return 0;
    };
  }

  /**
   * Calls the loop with a batch of `count` records, then does what the addon does when that
   * call returns: performs the writes it handed over (see {@link performOwed}).
   */
  dispatch(loop: NativeLoop, count: number): void {
    try {
      loop.onBatch(count);
    } finally {
      this.performOwed(loop);
    }
  }

  /**
   * Performs the deferred writes the last batch handed over (their count is in the cell after
   * the triples) and, as the addon does, calls back only when an answer is not 0.
   */
  performOwed(loop: NativeLoop): void {
    const cell = this.triples.length - 1;
    const owed = this.triples[cell]!;
    if (owed === 0) return;
    this.triples[cell] = 0;
    this.binding.writeBatch(owed);
    for (let i = 0; i < owed; i++) {
      if (this.triples[i * 3 + 1] !== 0) {
        loop.onWritesDone(owed);
        return;
      }
    }
  }

  /** Writes a batch: each entry is [kind, id, a, b]; returns the record count. */
  batch(entries: [number, number, number?, number?][]): number {
    entries.forEach(([kind, id, a = 0, b = 0], i) => {
      this.records.set([kind, id, a, b], i * 4);
    });
    return entries.length;
  }

  /** Puts `text` in the data buffer at `offset`; returns [offset, length]. */
  put(offset: number, text: string): [number, number] {
    const bytes = Buffer.from(text);
    this.data.set(bytes, offset);
    return [offset, bytes.length];
  }
}

const owner = {
  lost: [] as StreamTransport[],
  errors: [] as Error[],
  transportLost(transport: StreamTransport) {
    this.lost.push(transport);
  },
  reportError(error: Error) {
    this.errors.push(error);
  },
};

function connection(loop: NativeLoop, id: number, protocol = new RecordingProtocol()) {
  const transport = new NativeTransport(loop, id, protocol, owner);
  transport.start();
  return { transport, protocol };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('native loop: batch dispatch', () => {
  it('skips a record whose id names an older generation of the same slot', () => {
    const engine = new ScriptedEngine();
    const loop = new NativeLoop(engine.binding);
    const slot = 5;
    const oldId = (1 << SLOT_BITS) | slot;
    const newId = (2 << SLOT_BITS) | slot;
    const { protocol } = connection(loop, newId);
    const [offset, length] = engine.put(0, 'for the old socket');
    engine.dispatch(loop, engine.batch([[EV_DATA, oldId, offset, length]]));
    assert.deepEqual(protocol.kinds(), ['made']);
    const [offset2, length2] = engine.put(100, 'mine');
    engine.dispatch(loop, engine.batch([[EV_DATA, newId, offset2, length2]]));
    assert.equal(protocol.received().toString(), 'mine');
  });

  it('a callback that closes another connection of its batch: no later delivery to it', async () => {
    const engine = new ScriptedEngine();
    const loop = new NativeLoop(engine.binding);
    const victim = connection(loop, 7);
    const killer = connection(
      loop,
      8,
      new RecordingProtocol({ onData: () => victim.transport.abort() }),
    );
    const [o1, l1] = engine.put(0, 'kill');
    const [o2, l2] = engine.put(10, 'too late');
    engine.dispatch(
      loop,
      engine.batch([
        [EV_DATA, 8, o1, l1],
        [EV_DATA, 7, o2, l2],
        [EV_EOF, 7],
      ]),
    );
    assert.ok(engine.calls.includes('abort(7)'));
    // connectionLost comes on the next tick, not from inside abort().
    assert.deepEqual(victim.protocol.kinds(), ['made']);
    await tick();
    assert.deepEqual(victim.protocol.kinds(), ['made', 'lost']);
    assert.deepEqual(grammarViolations(victim.protocol.events), []);
    assert.equal(killer.protocol.received().toString(), 'kill');
  });

  it('a record that throws does not starve the rest of its batch; the error surfaces after', () => {
    const engine = new ScriptedEngine();
    const loop = new NativeLoop(engine.binding);
    const { protocol } = connection(loop, 3);
    const bug = new Error('listener bug');
    loop.addListener(9, {
      engineAccepted: () => {
        throw bug;
      },
      engineAcceptError: () => {},
    });
    const [offset, length] = engine.put(0, 'after the bug');
    assert.throws(
      () =>
        engine.dispatch(
          loop,
          engine.batch([
            [EV_ACCEPTED, 9, 4],
            [EV_DATA, 3, offset, length],
          ]),
        ),
      bug,
    );
    assert.equal(protocol.received().toString(), 'after the bug');
  });

  it('data and EOF of a batch that arrive after pauseReading are held, then delivered in order', async () => {
    const engine = new ScriptedEngine();
    const loop = new NativeLoop(engine.binding);
    const { transport, protocol } = connection(
      loop,
      4,
      new RecordingProtocol({ onData: (_data, t) => t.pauseReading() }),
    );
    const [o1, l1] = engine.put(0, 'one');
    const [o2, l2] = engine.put(3, 'two');
    engine.dispatch(
      loop,
      engine.batch([
        [EV_DATA, 4, o1, l1],
        [EV_DATA, 4, o2, l2],
        [EV_EOF, 4],
      ]),
    );
    assert.deepEqual(protocol.kinds(), ['made', 'data']);
    assert.ok(engine.calls.includes('setReading(4,0)'));
    transport.resumeReading();
    assert.deepEqual(protocol.kinds(), ['made', 'data'], 'not from inside resumeReading()');
    await tick();
    // 'two' pauses again: the EOF waits for the next resume.
    assert.deepEqual(protocol.kinds(), ['made', 'data', 'data']);
    transport.resumeReading();
    await tick();
    assert.deepEqual(protocol.kinds(), ['made', 'data', 'data', 'eof', 'lost']);
    assert.equal(protocol.received().toString(), 'onetwo');
    assert.deepEqual(grammarViolations(protocol.events), []);
  });

  it('hands out owned copies: a kept chunk does not pin or alias the batch buffer', () => {
    const engine = new ScriptedEngine();
    const loop = new NativeLoop(engine.binding);
    const kept: Buffer[] = [];
    connection(loop, 2, new RecordingProtocol({ onData: (data) => void kept.push(data) }));
    const [offset, length] = engine.put(0, 'partial fra');
    engine.dispatch(loop, engine.batch([[EV_DATA, 2, offset, length]]));
    engine.put(0, 'overwritten');
    assert.equal(kept[0]!.toString(), 'partial fra');
    assert.notEqual(kept[0]!.buffer, engine.data.buffer);
    // A small read comes from Node's shared 8 KiB pool, not a buffer of its own size or larger.
    assert.ok(kept[0]!.buffer.byteLength <= 8192, `pins ${kept[0]!.buffer.byteLength} bytes`);
  });
});

describe('native loop: writes deferred to the end of a batch', () => {
  const REPLY = Buffer.from('Message received');

  it('a batch of replies is one engine call, in order, byte for byte', () => {
    const engine = new ScriptedEngine();
    const loop = new NativeLoop(engine.binding);
    const echo = { onData: (data: Buffer, transport: Transport) => transport.write(data) };
    connection(loop, 1, new RecordingProtocol(echo));
    connection(loop, 2, new RecordingProtocol(echo));
    const [o1, l1] = engine.put(0, 'one');
    const [o2, l2] = engine.put(16, 'two, a little longer than sixteen bytes');
    const [o3, l3] = engine.put(80, 'three');
    let callsDuringBatch = -1;
    loop.addListener(99, {
      engineAccepted: () => {
        callsDuringBatch = engine.calls.length;
      },
      engineAcceptError: () => {},
    });
    engine.dispatch(
      loop,
      engine.batch([
        [EV_DATA, 1, o1, l1],
        [EV_DATA, 2, o2, l2],
        [EV_DATA, 1, o3, l3],
        [EV_ACCEPTED, 99, 5],
      ]),
    );
    assert.equal(callsDuringBatch, 0, 'nothing written while the batch is handled');
    assert.deepEqual(engine.calls.slice(0, 3), ['write(1)', 'write(2)', 'write(1)']);
    assert.deepEqual(
      engine.deferredBytes.map((bytes) => bytes.toString()),
      ['one', 'two, a little longer than sixteen bytes', 'three'],
    );
  });

  it("a batch's replies are performed by the engine after the call returns, with no call back when all went out", () => {
    const engine = new ScriptedEngine();
    const loop = new NativeLoop(engine.binding);
    let callsBack = 0;
    const onWritesDone = loop.onWritesDone.bind(loop);
    loop.onWritesDone = (count) => {
      callsBack++;
      onWritesDone(count);
    };
    const reply = { onData: (_data: Buffer, transport: Transport) => transport.write(REPLY) };
    connection(loop, 1, new RecordingProtocol(reply));
    connection(loop, 2, new RecordingProtocol(reply));
    const [offset, length] = engine.put(0, 'hi');
    loop.onBatch(
      engine.batch([
        [EV_DATA, 1, offset, length],
        [EV_DATA, 2, offset, length],
      ]),
    );
    assert.deepEqual(engine.calls, [], 'handed over, not performed, by onBatch');
    assert.equal(engine.triples.at(-1), 2, 'the count is left in the cell after the triples');
    engine.performOwed(loop);
    assert.deepEqual(engine.calls, ['write(1)', 'write(2)']);
    assert.equal(engine.triples.at(-1), 0);
    assert.equal(callsBack, 0);
    // A reply the kernel did not take whole is reported back.
    engine.answerWrites(() => 7);
    engine.dispatch(loop, engine.batch([[EV_DATA, 1, offset, length]]));
    assert.equal(callsBack, 1);
  });

  it('a write from a microtask after the batch first performs the writes handed over', async () => {
    const engine = new ScriptedEngine();
    const loop = new NativeLoop(engine.binding);
    const direct: string[] = [];
    engine.binding.write = (id: number, data: Uint8Array) => {
      engine.calls.push(`write(${id})`);
      direct.push(Buffer.from(data).toString());
      return 0;
    };
    connection(
      loop,
      1,
      new RecordingProtocol({
        onData: (_data, transport) => {
          transport.write(Buffer.from('first'));
          queueMicrotask(() => transport.write(Buffer.from('second')));
        },
      }),
    );
    const [offset, length] = engine.put(0, 'go');
    loop.onBatch(engine.batch([[EV_DATA, 1, offset, length]]));
    // The addon runs the microtasks before it performs what was handed over.
    await null;
    assert.deepEqual(engine.calls, ['write(1)', 'write(1)']);
    assert.deepEqual(
      engine.deferredBytes.map((bytes) => bytes.toString()),
      ['first'],
    );
    assert.deepEqual(direct, ['second']);
    assert.equal(engine.triples.at(-1), 0, 'nothing is left for the engine to perform twice');
    engine.performOwed(loop);
    assert.equal(engine.calls.length, 2);
  });

  it('a close, a shutdown or a large write in the batch first flushes what was deferred', () => {
    const engine = new ScriptedEngine();
    const loop = new NativeLoop(engine.binding);
    const large = Buffer.alloc(64 * 1024, 0x61);
    connection(
      loop,
      1,
      new RecordingProtocol({
        onData: (_data, transport) => {
          transport.write(REPLY);
          transport.write(large);
          transport.write(REPLY);
          transport.close();
        },
      }),
    );
    const [offset, length] = engine.put(0, 'go');
    engine.dispatch(loop, engine.batch([[EV_DATA, 1, offset, length]]));
    assert.deepEqual(engine.calls, ['write(1)', 'write(1)', 'write(1)', 'close(1)']);
    // The first and the last were deferred; the large one went straight to the engine between.
    assert.deepEqual(
      engine.deferredBytes.map((bytes) => bytes.toString()),
      ['Message received', 'Message received'],
    );
  });

  it('a deferred write the engine refuses ends the connection with the typed error', async () => {
    const engine = new ScriptedEngine();
    const loop = new NativeLoop(engine.binding);
    const ECONNRESET = 104;
    engine.answerWrites(() => -ECONNRESET);
    const { protocol } = connection(
      loop,
      1,
      new RecordingProtocol({ onData: (_data, transport) => transport.write(REPLY) }),
    );
    const [offset, length] = engine.put(0, 'hi');
    engine.dispatch(loop, engine.batch([[EV_DATA, 1, offset, length]]));
    assert.ok((await protocol.lost) instanceof ConnectionResetError);
    assert.deepEqual(grammarViolations(protocol.events), []);
  });

  it('a deferred write that leaves the queue over the high mark pauses the protocol', () => {
    const engine = new ScriptedEngine();
    const loop = new NativeLoop(engine.binding);
    engine.answerWrites(() => 100_000);
    const protocol = new FlowRecordingProtocol({
      onData: (_data, transport) => transport.write(REPLY),
    });
    connection(loop, 1, protocol);
    const [offset, length] = engine.put(0, 'hi');
    engine.dispatch(loop, engine.batch([[EV_DATA, 1, offset, length]]));
    assert.deepEqual(protocol.kinds(), ['made', 'data', 'pause']);
  });

  it("a write the kernel took whole changes nothing; the queue's drain still resumes", () => {
    const engine = new ScriptedEngine();
    const loop = new NativeLoop(engine.binding);
    let answer = 100_000;
    engine.answerWrites(() => answer);
    const protocol = new FlowRecordingProtocol({
      onData: (_data, transport) => transport.write(REPLY),
    });
    const { transport } = connection(loop, 1, protocol);
    const [offset, length] = engine.put(0, 'hi');
    engine.dispatch(loop, engine.batch([[EV_DATA, 1, offset, length]]));
    assert.equal(transport.getWriteBufferSize(), 100_000);
    // The engine flushed its queue (EV_WRITTEN 0) and then took the next reply whole: the
    // answer 0 needs no call back, the drain record resumes the protocol.
    answer = 0;
    engine.dispatch(
      loop,
      engine.batch([
        [EV_DATA, 1, offset, length],
        [EV_WRITTEN, 1, 0],
      ]),
    );
    assert.equal(transport.getWriteBufferSize(), 0);
    assert.deepEqual(protocol.kinds(), ['made', 'data', 'pause', 'data', 'resume']);
  });
});
