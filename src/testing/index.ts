/**
 * `aionet/testing`: test protocols in memory, deterministically — a memory transport, a
 * connected pair, every way TCP may split a byte stream, and a clock moved by hand.
 * Public names only, no logic.
 */
export { type Clock, systemClock, type TimerHandle } from '../clock.js';
export {
  connectPair,
  type MemoryPair,
  type MemoryPairOptions,
  type MemoryPairSideOptions,
} from './memory-pair.js';
export type { MemoryCall } from './memory-socket.js';
export {
  MEMORY_CLIENT_ADDRESS,
  MEMORY_SERVER_ADDRESS,
  MemoryTransport,
  type MemoryTransportOptions,
} from './memory-transport.js';
export {
  everySplit,
  replaySplits,
  type Split,
  type SplitInput,
  type SplitKind,
  type SplitOptions,
} from './splits.js';
export { TestClock } from './test-clock.js';
