/**
 * The kit's connected pair: bytes both ways, backpressure across the pair, half-close, close
 * and abort seen from both sides, and the manual pump.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConnectionResetError } from '../../src/errors.js';
import type { ProtocolCallbacks } from '../../src/protocol.js';
import { connectPair } from '../../src/testing/index.js';
import type { Transport } from '../../src/transport.js';
import {
  FlowRecordingProtocol,
  grammarViolations,
  type ProtocolEvent,
  RecordingProtocol,
} from '../helpers/recording-protocol.js';

function lostError(events: readonly ProtocolEvent[]): Error | undefined | 'not lost' {
  const last = events.at(-1);
  return last?.kind === 'lost' ? last.error : 'not lost';
}

function assertGrammar(...protocols: RecordingProtocol[]): void {
  for (const protocol of protocols) assert.deepEqual(grammarViolations(protocol.events), []);
}

describe('connectPair', () => {
  it('connects: connectionMade on both sides (server first) before any byte', () => {
    const order: string[] = [];
    const client = new RecordingProtocol({
      onMade: (t) => {
        order.push('client made');
        t.write(Buffer.from('hi'));
      },
    });
    const server = new RecordingProtocol({
      onMade: () => {
        order.push('server made');
      },
      onData: (data) => {
        order.push(`server got ${data}`);
      },
    });
    const pair = connectPair(client, server);
    assert.deepEqual(order, ['server made', 'client made', 'server got hi']);
    assert.deepEqual(pair.client.getExtraInfo('peername'), pair.server.getExtraInfo('sockname'));
    assert.deepEqual(pair.server.getExtraInfo('peername'), pair.client.getExtraInfo('sockname'));
  });

  it('one dataReceived per write, both ways; an echo completes before write() returns', () => {
    const client = new RecordingProtocol();
    const server = new RecordingProtocol({ onData: (data, t) => t.write(data) });
    const { client: transport } = connectPair(client, server);
    transport.write(Buffer.from('ab'));
    transport.write(Buffer.from('cd'));
    assert.deepEqual(client.kinds(), ['made', 'data', 'data']);
    assert.equal(client.received().toString(), 'abcd');
    assert.equal(server.received().toString(), 'abcd');
  });

  it('backpressure: a side that stops reading makes the writer pause, then resume', () => {
    const client = new FlowRecordingProtocol();
    const server = new RecordingProtocol();
    const pair = connectPair(client, server);
    pair.client.setWriteBufferLimits({ high: 8, low: 2 });
    pair.server.pauseReading();
    for (const piece of ['abcd', 'efgh', 'i']) pair.client.write(Buffer.from(piece));
    assert.equal(pair.client.getWriteBufferSize(), 9);
    assert.deepEqual(client.kinds(), ['made', 'pause']);
    assert.equal(server.received().length, 0);
    pair.server.resumeReading();
    assert.equal(pair.client.getWriteBufferSize(), 0);
    assert.deepEqual(client.kinds(), ['made', 'pause', 'resume']);
    assert.equal(server.received().toString(), 'abcdefghi');
    pair.client.close();
    assertGrammar(client, server);
  });

  it('the safe default across the pair: the writer stops reading while the peer does not', () => {
    const client = new RecordingProtocol();
    const server = new RecordingProtocol();
    const pair = connectPair(client, server);
    pair.client.setWriteBufferLimits({ high: 2, low: 0 });
    pair.server.pauseReading();
    pair.client.write(Buffer.from('abc'));
    assert.equal(pair.client.reading, false);
    pair.server.write(Buffer.from('queued'));
    assert.equal(client.received().length, 0);
    pair.server.resumeReading();
    assert.equal(pair.client.reading, true);
    assert.equal(client.received().toString(), 'queued');
  });

  it('writeEof reaches the peer after the bytes before it; the peer may answer', () => {
    const client = new RecordingProtocol({ onEof: () => undefined });
    const server = new RecordingProtocol({
      onEof: (t: Transport, p) => {
        t.write(Buffer.from(`got ${p.received()}`));
        return true;
      },
    });
    const pair = connectPair(client, server);
    pair.client.write(Buffer.from('request'));
    pair.client.writeEof();
    assert.deepEqual(server.kinds(), ['made', 'data', 'eof']);
    assert.equal(client.received().toString(), 'got request');
    pair.server.close();
    assert.deepEqual(client.kinds(), ['made', 'data', 'eof', 'lost']);
    assert.deepEqual(server.kinds(), ['made', 'data', 'eof', 'lost']);
    assert.equal(lostError(client.events), undefined);
    assert.equal(lostError(server.events), undefined);
  });

  it('close: both sides end with no error, after the bytes in flight', () => {
    const client = new RecordingProtocol();
    const server = new RecordingProtocol();
    const pair = connectPair(client, server);
    pair.server.pauseReading();
    pair.client.write(Buffer.from('last words'));
    pair.client.close();
    assert.equal(pair.client.closed, false);
    pair.server.resumeReading();
    assert.equal(server.received().toString(), 'last words');
    assert.deepEqual(server.kinds(), ['made', 'data', 'eof', 'lost']);
    assert.deepEqual(client.kinds(), ['made', 'lost']);
    assertGrammar(client, server);
  });

  it('abort: the aborting side ends with no error, the other with ConnectionResetError', () => {
    const client = new RecordingProtocol();
    const server = new RecordingProtocol();
    const pair = connectPair(client, server);
    pair.server.pauseReading();
    pair.client.write(Buffer.from('dropped'));
    pair.client.abort();
    assert.equal(lostError(client.events), undefined);
    assert.ok(lostError(server.events) instanceof ConnectionResetError);
    assert.equal(server.received().length, 0);
    assertGrammar(client, server);
  });

  it('abort(error): the aborting side gets that error, the other a ConnectionResetError', () => {
    const client = new RecordingProtocol();
    const server = new RecordingProtocol();
    const pair = connectPair(client, server);
    const error = new Error('bad frame');
    pair.server.abort(error);
    assert.equal(lostError(server.events), error);
    assert.ok(lostError(client.events) instanceof ConnectionResetError);
  });

  it('bytes written to a side that is gone are discarded', () => {
    const client = new RecordingProtocol();
    const server = new RecordingProtocol({ onEof: () => true });
    const pair = connectPair(client, server);
    pair.client.close();
    assert.deepEqual(client.kinds(), ['made', 'lost']);
    pair.server.write(Buffer.from('nobody listens'));
    assert.equal(pair.server.getWriteBufferSize(), 0);
    pair.server.close();
    assert.equal(lostError(server.events), undefined);
  });

  it('with autoFlush: false, nothing moves until flush(): simultaneous close', () => {
    const client = new RecordingProtocol();
    const server = new RecordingProtocol();
    const pair = connectPair(client, server, { autoFlush: false });
    assert.deepEqual(client.kinds(), ['made']);
    pair.client.write(Buffer.from('x'));
    pair.server.write(Buffer.from('y'));
    pair.client.close();
    pair.server.close();
    assert.equal(server.received().length, 0);
    pair.flush();
    assert.deepEqual(client.kinds(), ['made', 'lost']);
    assert.deepEqual(server.kinds(), ['made', 'lost']);
    assertGrammar(client, server);
  });

  it('two protocols that answer each other forever are stopped with an error', () => {
    const bounce = (): ProtocolCallbacks => {
      let transport: Transport | undefined;
      return {
        connectionMade: (t) => {
          transport = t;
        },
        dataReceived: (data) => transport?.write(data),
      };
    };
    const pair = connectPair(bounce(), bounce());
    assert.throws(() => pair.client.write(Buffer.from('x')), /did not settle/);
  });
});
