/**
 * The examples of docs/testing.md, run as written (imports aside): if they break, the docs lie.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Clock, TimerHandle } from '../../src/clock.js';
import { LineDecoder } from '../../src/codecs/line-decoder.js';
import { Protocol } from '../../src/protocol.js';
import { MemoryTransport, replaySplits, TestClock } from '../../src/testing/index.js';
import type { Transport } from '../../src/transport.js';

class Shout extends Protocol {
  #transport?: Transport;
  #partial = '';
  override connectionMade(transport: Transport) {
    this.#transport = transport;
  }
  override dataReceived(data: Buffer) {
    const lines = (this.#partial + data.toString('latin1')).split('\n');
    this.#partial = lines.pop() ?? '';
    for (const line of lines) this.#transport?.write(`${line.toUpperCase()}\n`, 'latin1');
  }
}

test('Shout answers each line, however TCP cuts the input', () => {
  const runs = replaySplits(['hello\n', 'wor', 'ld\n'], (chunks) => {
    const transport = new MemoryTransport(new Shout()).start();
    for (const chunk of chunks) transport.receive(chunk);
    assert.equal(transport.written().toString(), 'HELLO\nWORLD\n');
    transport.receiveEof();
    assert.equal(transport.closed, true);
  });
  assert.equal(runs, 79, 'the count docs/testing.md gives');
});

/** Closes the connection after `idleMs` without a byte received. */
class IdleClose extends Protocol {
  readonly #clock: Clock;
  readonly #idleMs: number;
  #timer?: TimerHandle;
  #transport?: Transport;
  constructor(options: { clock: Clock; idleMs: number }) {
    super();
    this.#clock = options.clock;
    this.#idleMs = options.idleMs;
  }
  override connectionMade(transport: Transport) {
    this.#transport = transport;
    this.#arm();
  }
  override dataReceived() {
    this.#arm();
  }
  override connectionLost() {
    this.#timer?.cancel();
  }
  #arm() {
    this.#timer?.cancel();
    this.#timer = this.#clock.setTimeout(() => this.#transport?.close(), this.#idleMs);
  }
}

test('IdleClose closes after 30 s of silence, not a millisecond before', () => {
  const clock = new TestClock();
  const transport = new MemoryTransport(new IdleClose({ clock, idleMs: 30_000 })).start();
  clock.advance(20_000);
  transport.receive('still here');
  clock.advance(29_999);
  assert.equal(transport.closed, false);
  clock.advance(1);
  assert.equal(transport.closed, true);
  assert.equal(clock.pendingTimers(), 0);
});

test('a codec checked against every split, without a transport', () => {
  replaySplits(['PING\r\n', 'PONG\n'], (chunks) => {
    const decoder = new LineDecoder();
    const lines: Buffer[] = [];
    for (const chunk of chunks) {
      decoder.push(chunk);
      for (let line = decoder.next(); line !== undefined; line = decoder.next()) lines.push(line);
    }
    assert.deepEqual(lines.map(String), ['PING', 'PONG']);
  });
});
