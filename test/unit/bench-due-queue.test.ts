/**
 * The open-loop scheduler's agenda: entries come out in due-time order, whatever the order of
 * pushes and pops.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { DueQueue } from '../../src/bench/due-queue.js';

test('pops entries in due-time order, interleaved with pushes', () => {
  fc.assert(
    fc.property(
      fc.array(fc.oneof(fc.double({ min: 0, max: 1e6, noNaN: true }), fc.constant(-1)), {
        maxLength: 300,
      }),
      (operations) => {
        const queue = new DueQueue();
        const model: { time: number; slot: number }[] = [];
        const timeOfSlot = new Map<number, number>();
        operations.forEach((time, slot) => {
          if (time >= 0) {
            queue.push(time, slot);
            model.push({ time, slot });
            timeOfSlot.set(slot, time);
            return;
          }
          // A pop: the queue's earliest time is the model's smallest.
          model.sort((a, b) => a.time - b.time);
          const first = model.shift();
          assert.equal(queue.peekTime(), first?.time ?? Number.POSITIVE_INFINITY);
          // Its slot is one pushed with that time (ties may come out in any order).
          if (first !== undefined) assert.equal(timeOfSlot.get(queue.peekSlot()), first.time);
          queue.pop();
        });
        assert.equal(queue.size, model.length);
        const drained: number[] = [];
        while (queue.size > 0) {
          drained.push(queue.peekTime());
          queue.pop();
        }
        assert.deepEqual(
          drained,
          model.map((e) => e.time).sort((a, b) => a - b),
        );
      },
    ),
    { numRuns: 300 },
  );
});

test('an empty queue has no time and no slot, and pop is harmless', () => {
  const queue = new DueQueue();
  queue.pop();
  assert.equal(queue.peekTime(), Number.POSITIVE_INFINITY);
  assert.equal(queue.peekSlot(), -1);
  queue.push(5, 7);
  queue.clear();
  assert.equal(queue.size, 0);
});
