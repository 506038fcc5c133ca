/**
 * The delivery loop of the in-memory transports: a tiny, synchronous event loop that makes every
 * call into a protocol from one place, one at a time.
 *
 * Why: a real socket never calls a protocol back from inside another of its callbacks (Node
 * emits its events from the event loop). If the memory transport delivered bytes, EOF or
 * `connectionLost` the moment they became due, a protocol that writes in `dataReceived` would be
 * called back *inside* its own callback, and code after `transport.abort()` would run after its
 * own `connectionLost` — behaviour no real backend has. So the transports only record what became
 * due, and the loop delivers it when the outermost call returns (a trampoline): synchronous for
 * the test, never nested for the protocol.
 */

/**
 * Deliveries one flush may make before it gives up: two protocols that answer every message
 * with a message would otherwise ping-pong forever inside a test. A test that writes a hundred
 * thousand messages from one callback stays under it; a runaway fails within a second.
 */
const MAX_STEPS_PER_FLUSH = 250_000;

/** Does at most one delivery; returns whether it did anything. */
export type DeliveryStep = () => boolean;

/**
 * Runs the delivery steps of one or more transports (both ends of a pair share one loop).
 * In automatic mode it flushes when the outermost `run` returns; in manual mode only `flush()`
 * delivers.
 */
export class DeliveryLoop {
  #depth = 0;
  readonly #auto: boolean;
  readonly #steps: DeliveryStep[] = [];

  constructor(auto: boolean) {
    this.#auto = auto;
  }

  /** Whether deliveries happen without `flush()`. */
  get auto(): boolean {
    return this.#auto;
  }

  /** Adds a transport's step; steps run round-robin, in the order they were added. */
  add(step: DeliveryStep): void {
    this.#steps.push(step);
  }

  /**
   * Runs `fn` (a call into a transport); when the outermost such call returns, delivers what
   * became due (automatic mode). Calls made from inside a delivery only record.
   */
  run<T>(fn: () => T): T {
    this.#depth++;
    try {
      return fn();
    } finally {
      this.#depth--;
      this.kick();
    }
  }

  /** Something became due outside any `run` (a promise rejected): deliver it now if automatic. */
  kick(): void {
    if (this.#depth === 0 && this.#auto) this.#drain();
  }

  /**
   * Delivers everything due, until nothing moves. Inside a protocol callback it does nothing:
   * the delivery in progress picks the rest up when the callback returns.
   */
  flush(): void {
    if (this.#depth === 0) this.#drain();
  }

  #drain(): void {
    this.#depth++;
    try {
      let steps = 0;
      let progressed = true;
      while (progressed) {
        progressed = false;
        for (const step of this.#steps) {
          if (!step()) continue;
          progressed = true;
          if (++steps > MAX_STEPS_PER_FLUSH) {
            throw new Error(
              `in-memory delivery did not settle after ${MAX_STEPS_PER_FLUSH} steps: do two protocols answer each other forever?`,
            );
          }
        }
      }
    } finally {
      this.#depth--;
    }
  }
}
