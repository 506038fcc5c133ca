/**
 * Property tests of the state machine, in memory: random protocols (plain, flow-aware,
 * buffered; echoing, pausing, ending or throwing in their callbacks) under random sequences of
 * operations from both ends. Whatever happens, no exception escapes but the documented misuse,
 * the grammar holds after every step, bytes arrive in order with none invented, flow control
 * agrees with the buffer size, and `connectionLost` comes exactly once in the end.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  InvalidArgumentError,
  ProtocolCallbackError,
  WriteAfterEofError,
} from '../../src/errors.js';
import { connectPair, MemoryTransport } from '../../src/testing/index.js';
import {
  BufferedFlowRecordingProtocol,
  BufferedRecordingProtocol,
  FlowRecordingProtocol,
  grammarViolations,
  type ProtocolEvent,
  type RecordingBehaviour,
  RecordingProtocol,
} from '../helpers/recording-protocol.js';

const RUNS = Number(process.env.RUNS ?? 300);

type Kind = 'plain' | 'flow' | 'buffered' | 'bufferedFlow';
type Callback = 'made' | 'data' | 'eof' | 'pause' | 'resume' | 'lost';

interface Config {
  readonly kind: Kind;
  readonly sizes: number[];
  readonly echo: boolean;
  /** Pause reading after every n-th data event (0: never). */
  readonly pauseEvery: number;
  readonly keepOpen: boolean;
  /** End the connection from the n-th data event (0: never). */
  readonly endAt: number;
  readonly endHow: 'close' | 'abort' | 'writeEof';
  readonly throwIn: Callback | 'none';
  readonly writeOnResume: boolean;
  readonly high: number;
  readonly lowShare: number;
  readonly autoFlush: boolean;
}

const config: fc.Arbitrary<Config> = fc.record({
  kind: fc.constantFrom<Kind>('plain', 'flow', 'buffered', 'bufferedFlow'),
  sizes: fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 3 }),
  echo: fc.boolean(),
  pauseEvery: fc.integer({ min: 0, max: 3 }),
  keepOpen: fc.boolean(),
  endAt: fc.integer({ min: 0, max: 6 }),
  endHow: fc.constantFrom('close', 'abort', 'writeEof'),
  throwIn: fc.constantFrom<Callback | 'none'>(
    'none',
    'none',
    'made',
    'data',
    'eof',
    'pause',
    'resume',
    'lost',
  ),
  writeOnResume: fc.boolean(),
  high: fc.integer({ min: 0, max: 8 }),
  lowShare: fc.double({ min: 0, max: 1, noNaN: true }),
  autoFlush: fc.boolean(),
});

type Op =
  | { readonly op: 'receive' | 'write'; readonly bytes: Uint8Array }
  | { readonly op: 'peerReads'; readonly n: number }
  | { readonly op: 'limits'; readonly high: number; readonly low: number }
  | {
      readonly op:
        | 'receiveEof'
        | 'reset'
        | 'closeFromPeer'
        | 'peerStops'
        | 'peerResumes'
        | 'writeEof'
        | 'close'
        | 'abort'
        | 'pauseReading'
        | 'resumeReading'
        | 'flush';
    };

const bytes = fc.uint8Array({ minLength: 0, maxLength: 6 });
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('receive' as const), bytes }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('write' as const), bytes }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('peerReads' as const), n: fc.nat(8) }) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.nat(8), fc.nat(8))
      .map(([a, b]) => ({ op: 'limits' as const, high: Math.max(a, b), low: Math.min(a, b) })),
  },
  {
    weight: 6,
    arbitrary: fc.record({
      op: fc.constantFrom(
        'receiveEof',
        'reset',
        'closeFromPeer',
        'peerStops',
        'peerStops',
        'peerResumes',
        'writeEof',
        'close',
        'abort',
        'pauseReading',
        'resumeReading',
        'resumeReading',
        'flush',
      ),
    }),
  },
);

function makeProtocol(c: Config): RecordingProtocol {
  let data = 0;
  const maybeThrow = (callback: Callback) => {
    if (c.throwIn === callback) throw new Error(`thrown in ${callback}`);
  };
  const behaviour: RecordingBehaviour = {
    onMade: () => maybeThrow('made'),
    onData: (chunk, t) => {
      data++;
      maybeThrow('data');
      if (c.echo) t.write(chunk);
      if (c.pauseEvery > 0 && data % c.pauseEvery === 0) t.pauseReading();
      if (c.endAt > 0 && data >= c.endAt) t[c.endHow]();
    },
    onEof: () => {
      maybeThrow('eof');
      return c.keepOpen;
    },
    onPause: () => maybeThrow('pause'),
    onResume: (t) => {
      maybeThrow('resume');
      if (c.writeOnResume) t.write(Buffer.from('more'));
    },
    onLost: () => maybeThrow('lost'),
  };
  switch (c.kind) {
    case 'plain':
      return new RecordingProtocol(behaviour);
    case 'flow':
      return new FlowRecordingProtocol(behaviour);
    case 'buffered':
      return new BufferedRecordingProtocol(behaviour, c.sizes);
    case 'bufferedFlow':
      return new BufferedFlowRecordingProtocol(behaviour, c.sizes);
  }
}

function losses(events: readonly ProtocolEvent[]): (Error | undefined)[] {
  return events.flatMap((event) => (event.kind === 'lost' ? [event.error] : []));
}

function assertGrammarSoFar(events: readonly ProtocolEvent[], at: string): void {
  const violations = grammarViolations(events).filter((v) => v !== 'connectionLost never called');
  assert.deepEqual(violations, [], at);
}

/** Flow-control state agrees with the buffer size (only meaningful once everything is delivered). */
function assertFlowAgrees(t: MemoryTransport, protocol: RecordingProtocol, at: string): void {
  if (t.isClosing()) return;
  const flow = protocol.kinds().filter((kind) => kind === 'pause' || kind === 'resume');
  const paused = flow.at(-1) === 'pause';
  const size = t.getWriteBufferSize();
  const { high, low } = t.getWriteBufferLimits();
  if (protocol.pauseWriting === undefined) {
    if (size > high) assert.equal(t.reading, false, `${at}: reading over high`);
    if (size <= low && t.isReading()) assert.equal(t.reading, true, `${at}: not reading at low`);
  } else {
    if (size > high) assert.ok(paused, `${at}: not paused over high (${size} > ${high})`);
    if (size <= low) assert.ok(!paused, `${at}: still paused at low (${size} <= ${low})`);
  }
}

function runSingle(c: Config, ops: readonly Op[]): void {
  const protocol = makeProtocol(c);
  const t = new MemoryTransport(protocol, {
    autoFlush: c.autoFlush,
    writeBufferLimits: { high: c.high, low: Math.floor(c.high * c.lowShare) },
  }).start();
  let sent = Buffer.alloc(0);
  let peerEof = false;
  for (const [index, step] of ops.entries()) {
    const at = `op #${index} ${step.op}`;
    switch (step.op) {
      case 'receive':
        if (peerEof) {
          assert.throws(() => t.receive(step.bytes), InvalidArgumentError, at);
        } else {
          t.receive(step.bytes);
          sent = Buffer.concat([sent, step.bytes]);
        }
        break;
      case 'write':
        try {
          t.write(step.bytes);
        } catch (error) {
          assert.ok(error instanceof WriteAfterEofError, `${at}: ${error}`);
          assert.ok(t.calls.includes('writeEof'), `${at}: WriteAfterEofError without writeEof`);
        }
        break;
      case 'peerReads':
        t.peerReads(step.n);
        break;
      case 'limits':
        t.setWriteBufferLimits({ high: step.high, low: step.low });
        break;
      case 'receiveEof':
        t.receiveEof();
        peerEof = true;
        break;
      case 'closeFromPeer':
        t.closeFromPeer();
        peerEof = true;
        break;
      case 'reset':
        t.reset();
        break;
      case 'peerStops':
        t.peerStopsReading();
        break;
      case 'peerResumes':
        t.peerResumesReading();
        break;
      case 'flush':
        t.flush();
        break;
      default:
        t[step.op]();
    }
    assertGrammarSoFar(protocol.events, at);
    assert.ok(losses(protocol.events).length <= 1, `${at}: connectionLost twice`);
    const received = protocol.received();
    assert.ok(sent.subarray(0, received.length).equals(received), `${at}: bytes out of order`);
    if (c.autoFlush || step.op === 'flush') assertFlowAgrees(t, protocol, at);
  }
  t.peerResumesReading();
  t.abort();
  t.flush();
  assert.deepEqual(grammarViolations(protocol.events), []);
  assert.equal(losses(protocol.events).length, 1, 'connectionLost once');
  for (const error of t.reportedErrors) assert.ok(error instanceof ProtocolCallbackError);
  const [lostWith] = losses(protocol.events);
  if (lostWith instanceof ProtocolCallbackError) assert.ok(t.reportedErrors.includes(lostWith));
  if (protocol instanceof BufferedRecordingProtocol) assert.deepEqual(protocol.bufferProblems, []);
}

describe('random protocols under random operations', () => {
  it('one transport, the test playing the peer', () => {
    fc.assert(
      fc.property(config, fc.array(op, { maxLength: 25 }), (c, ops) => runSingle(c, ops)),
      { numRuns: RUNS },
    );
  });

  it('a connected pair, operations from both ends', () => {
    const sideOp = fc.record({
      side: fc.constantFrom('client' as const, 'server' as const),
      op: fc.constantFrom(
        'write',
        'write',
        'writeEof',
        'close',
        'abort',
        'pauseReading',
        'resumeReading',
        'resumeReading',
        'flush',
      ),
    });
    fc.assert(
      fc.property(config, config, fc.array(sideOp, { maxLength: 20 }), (cc, sc, ops) => {
        // Two echoing protocols would answer each other forever.
        const client = makeProtocol({ ...cc, echo: false });
        const server = makeProtocol(sc);
        const pair = connectPair(client, server, {
          autoFlush: cc.autoFlush,
          client: { writeBufferLimits: { high: cc.high, low: Math.floor(cc.high * cc.lowShare) } },
          server: { writeBufferLimits: { high: sc.high, low: Math.floor(sc.high * sc.lowShare) } },
        });
        const sides = { client: pair.client, server: pair.server };
        for (const [index, { side, op: name }] of ops.entries()) {
          const t = sides[side];
          if (name === 'flush') pair.flush();
          else if (name === 'write') {
            try {
              t.write(Buffer.from(`${side[0]}${index};`));
            } catch (error) {
              assert.ok(error instanceof WriteAfterEofError);
            }
          } else t[name]();
          for (const protocol of [client, server]) {
            assertGrammarSoFar(protocol.events, `op #${index} ${side} ${name}`);
          }
        }
        pair.flush();
        for (const [protocol, peer] of [
          [client, pair.server],
          [server, pair.client],
        ] as const) {
          const received = protocol.received();
          const written = peer.written();
          assert.ok(written.subarray(0, received.length).equals(received), 'bytes out of order');
        }
        pair.client.resumeReading();
        pair.server.resumeReading();
        pair.client.abort();
        pair.server.abort();
        pair.flush();
        for (const protocol of [client, server]) {
          assert.deepEqual(grammarViolations(protocol.events), []);
          assert.equal(losses(protocol.events).length, 1);
        }
      }),
      { numRuns: RUNS },
    );
  });
});
