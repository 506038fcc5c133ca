/**
 * A min-heap of (due time, slot) pairs: the open-loop scheduler's agenda. Pure data structure,
 * no timers; entries are plain numbers in two parallel arrays, so pushing and popping allocate
 * nothing once the arrays have grown.
 */

/** Slots ordered by due time, earliest first. Equal times pop in no particular order. */
export class DueQueue {
  readonly #times: number[] = [];
  readonly #slots: number[] = [];

  /** Entries queued. */
  get size(): number {
    return this.#times.length;
  }

  /** The earliest due time, `Infinity` when empty. */
  peekTime(): number {
    return this.#times[0] ?? Number.POSITIVE_INFINITY;
  }

  /** The slot of the earliest entry, -1 when empty. */
  peekSlot(): number {
    return this.#slots[0] ?? -1;
  }

  push(time: number, slot: number): void {
    const times = this.#times;
    const slots = this.#slots;
    let i = times.length;
    times.push(time);
    slots.push(slot);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const parentTime = times[parent] ?? 0;
      if (parentTime <= time) break;
      times[i] = parentTime;
      slots[i] = slots[parent] ?? 0;
      i = parent;
    }
    times[i] = time;
    slots[i] = slot;
  }

  /** Removes the earliest entry. No-op when empty. */
  pop(): void {
    const times = this.#times;
    const slots = this.#slots;
    const lastTime = times.pop();
    const lastSlot = slots.pop();
    const size = times.length;
    if (size === 0 || lastTime === undefined || lastSlot === undefined) return;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= size) break;
      const right = left + 1;
      const leftTime = times[left] ?? 0;
      const child = right < size && (times[right] ?? 0) < leftTime ? right : left;
      const childTime = times[child] ?? 0;
      if (childTime >= lastTime) break;
      times[i] = childTime;
      slots[i] = slots[child] ?? 0;
      i = child;
    }
    times[i] = lastTime;
    slots[i] = lastSlot;
  }

  clear(): void {
    this.#times.length = 0;
    this.#slots.length = 0;
  }
}
