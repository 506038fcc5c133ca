/**
 * A FIFO of byte chunks with a running size: the simulated buffers of the memory transport.
 * Chunks keep their boundaries unless `take(n)` has to cut one.
 */
export class ByteQueue {
  #chunks: Buffer[] = [];
  #size = 0;

  /** Bytes queued. */
  get size(): number {
    return this.#size;
  }

  /** Appends a chunk (the queue keeps it; pass a copy if the caller may change it). */
  push(chunk: Buffer): void {
    this.#chunks.push(chunk);
    this.#size += chunk.length;
  }

  /** Removes and returns the first chunk. */
  shift(): Buffer | undefined {
    const chunk = this.#chunks.shift();
    if (chunk !== undefined) this.#size -= chunk.length;
    return chunk;
  }

  /** Removes and returns up to `n` bytes (all by default), cutting the last chunk if needed. */
  take(n = Number.POSITIVE_INFINITY): Buffer[] {
    const taken: Buffer[] = [];
    let size = 0;
    while (size < n) {
      const chunk = this.#chunks[0];
      if (chunk === undefined) break;
      if (chunk.length <= n - size) {
        this.#chunks.shift();
        taken.push(chunk);
        size += chunk.length;
      } else {
        taken.push(chunk.subarray(0, n - size));
        this.#chunks[0] = chunk.subarray(n - size);
        size = n;
      }
    }
    this.#size -= size;
    return taken;
  }

  /** Drops everything. */
  clear(): void {
    this.#chunks = [];
    this.#size = 0;
  }
}
