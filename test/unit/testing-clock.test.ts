/**
 * The Clock contract's two implementations: TestClock, moved by hand, and the system clock.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { systemClock } from '../../src/clock.js';
import { InvalidArgumentError } from '../../src/errors.js';
import { TestClock } from '../../src/testing/index.js';

describe('TestClock', () => {
  it('stands still until advanced, then fires what fell due, in due order', () => {
    const clock = new TestClock(1000);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push(`b@${clock.now()}`), 20);
    clock.setTimeout(() => fired.push(`a@${clock.now()}`), 10);
    clock.setTimeout(() => fired.push(`c@${clock.now()}`), 30);
    assert.equal(clock.now(), 1000);
    assert.equal(clock.pendingTimers(), 3);
    assert.equal(clock.nextDue(), 1010);
    assert.equal(clock.advance(19), 1);
    assert.equal(clock.now(), 1019);
    assert.equal(clock.advance(1), 1);
    assert.deepEqual(fired, ['a@1010', 'b@1020']);
    assert.equal(clock.advance(100), 1);
    assert.equal(clock.now(), 1120);
    assert.deepEqual(fired, ['a@1010', 'b@1020', 'c@1030']);
    assert.equal(clock.nextDue(), undefined);
  });

  it('fires timers due at the same time in the order they were set; 0 ms waits for advance', () => {
    const clock = new TestClock();
    const fired: number[] = [];
    for (const n of [1, 2, 3]) clock.setTimeout(() => fired.push(n), 0);
    assert.deepEqual(fired, []);
    clock.advance(0);
    assert.deepEqual(fired, [1, 2, 3]);
  });

  it('fires timers set by timers when they fall within the same advance', () => {
    const clock = new TestClock();
    const fired: number[] = [];
    const tick = () => {
      fired.push(clock.now());
      clock.setTimeout(tick, 10);
    };
    clock.setTimeout(tick, 10);
    clock.advance(35);
    assert.deepEqual(fired, [10, 20, 30]);
    assert.equal(clock.nextDue(), 40);
  });

  it('cancel: idempotent, and a no-op after firing', () => {
    const clock = new TestClock();
    let fired = 0;
    const first = clock.setTimeout(() => fired++, 5);
    const second = clock.setTimeout(() => fired++, 5);
    first.cancel();
    first.cancel();
    clock.advance(5);
    second.cancel();
    assert.equal(fired, 1);
    assert.equal(clock.pendingTimers(), 0);
  });

  it('runNext jumps to the next timer', () => {
    const clock = new TestClock();
    let fired = 0;
    clock.setTimeout(() => fired++, 250);
    assert.equal(clock.runNext(), 1);
    assert.equal(clock.now(), 250);
    assert.equal(clock.runNext(), 0);
    assert.equal(fired, 1);
  });

  it('a timer that throws stops the advance at its due time; later ones stay pending', () => {
    const clock = new TestClock();
    let later = 0;
    clock.setTimeout(() => {
      throw new Error('boom');
    }, 10);
    clock.setTimeout(() => later++, 20);
    assert.throws(() => clock.advance(30), /boom/);
    assert.equal(clock.now(), 10);
    assert.equal(clock.pendingTimers(), 1);
    clock.advance(20);
    assert.equal(later, 1);
  });

  it('stops a timer that re-arms itself forever', () => {
    const clock = new TestClock();
    const spin = () => {
      clock.setTimeout(spin, 0);
    };
    clock.setTimeout(spin, 0);
    assert.throws(() => clock.advance(0), /re-arms forever/);
  });

  it('refuses bad delays and start times', () => {
    const clock = new TestClock();
    for (const ms of [-1, Number.NaN, Number.POSITIVE_INFINITY, '5' as unknown as number]) {
      assert.throws(() => clock.setTimeout(() => {}, ms), InvalidArgumentError);
      assert.throws(() => clock.advance(ms), InvalidArgumentError);
    }
    assert.throws(() => new TestClock(Number.NaN), InvalidArgumentError);
  });
});

describe('systemClock', () => {
  it('tells monotonic time, fires and cancels real timers', async () => {
    const start = systemClock.now();
    const fired = await new Promise<number>((resolve) => {
      systemClock.setTimeout(() => resolve(systemClock.now()), 5);
    });
    assert.ok(fired >= start);
    let cancelled = true;
    systemClock
      .setTimeout(() => {
        cancelled = false;
      }, 1)
      .cancel();
    await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(cancelled, true);
    assert.throws(() => systemClock.setTimeout(() => {}, -1), InvalidArgumentError);
  });
});
