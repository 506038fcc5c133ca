/**
 * Named defaults, each with its unit and the reason for its value.
 */

/**
 * Write buffer high-water mark in bytes: over it, the protocol is asked to pause writing.
 * asyncio's default (64 KiB) — large enough that a healthy peer never triggers it for
 * request/reply traffic, small enough that 10,000 stalled peers cost well under 1 GiB.
 */
export const DEFAULT_WRITE_HIGH_WATER = 64 * 1024;

/** Write buffer low-water mark in bytes: at or under it, writing resumes. A quarter of high, as asyncio. */
export const DEFAULT_WRITE_LOW_WATER = DEFAULT_WRITE_HIGH_WATER / 4;

/** Listen backlog (pending connections the kernel queues): Node's own default. */
export const DEFAULT_BACKLOG = 511;

/** Largest line the line codec and the stream reader accept by default, in bytes (asyncio's 64 KiB). */
export const DEFAULT_LINE_MAX = 64 * 1024;

/** Largest frame the length-prefixed codec accepts by default, in bytes. */
export const DEFAULT_FRAME_MAX = 1024 * 1024;

/** Largest stream-reader buffer before `readUntil` gives up, in bytes (asyncio's `_DEFAULT_LIMIT`). */
export const DEFAULT_STREAM_LIMIT = 64 * 1024;

/** Milliseconds to stop accepting after the process ran out of file descriptors. */
export const ACCEPT_BACKOFF_MS = 100;

/** Size hint, in bytes, passed to `BufferedProtocol.getBuffer` when the backend has no better one. */
export const DEFAULT_READ_SIZE_HINT = 64 * 1024;
