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

/**
 * Hard cap of a connection's write buffer, in bytes: past it the connection is dropped with
 * `WriteBufferOverflowError`. 16x the high-water mark: a protocol that honours `pauseWriting`
 * never gets near it; one that ignores it cannot hold more than this per peer.
 */
export const DEFAULT_MAX_WRITE_BUFFER = 1024 * 1024;

/** Milliseconds `shutdown()` lets busy connections finish before resetting them. */
export const DEFAULT_DRAIN_TIMEOUT_MS = 10_000;

/**
 * Milliseconds a gracefully closed connection waits for the peer's FIN before it is closed
 * anyway. Waiting avoids turning our close into a reset while the peer is still sending;
 * the bound stops a peer that never closes from holding the socket.
 */
export const CLOSE_LINGER_MS = 2_000;

/**
 * Deadline sweeps run every quarter of the shortest deadline, within these bounds (ms): a
 * deadline fires at most a quarter late, and 100,000 connections cost a few ms per sweep.
 */
export const SWEEP_INTERVAL_MIN_MS = 10;
export const SWEEP_INTERVAL_MAX_MS = 1_000;

/**
 * Milliseconds a TLS handshake may take before the connection is closed. Node's server default
 * (120 s) lets a client that never finishes hold a socket and its memory for two minutes; a
 * real client on a slow mobile link completes in well under 10 s.
 */
export const DEFAULT_TLS_HANDSHAKE_TIMEOUT_MS = 10_000;

/** The lowest TLS version accepted: 1.0 and 1.1 are deprecated (RFC 8996). */
export const DEFAULT_TLS_MIN_VERSION = 'TLSv1.2';

/**
 * Milliseconds a connection may take to send its whole PROXY protocol header. The spec asks for
 * "at least 3 seconds to cover a TCP retransmit"; the header is one segment, sent at once.
 */
export const DEFAULT_PROXY_HEADER_TIMEOUT_MS = 3_000;

/**
 * Milliseconds between two reports of the same kind of server-level failure (accept errors,
 * connections turned away by the limit): a storm gets one log line a second, not one per event.
 */
export const REPORT_INTERVAL_MS = 1_000;
