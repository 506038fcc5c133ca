/**
 * The native addon (`native/`, built by node-gyp at install): its functions as the engine
 * exposes them, loaded once, or the reason it could not be loaded.
 *
 * Set `AIONET_NATIVE=off` in the environment to act as if it were not built (for tests of the
 * fallback, or to rule the native transport out while investigating a problem).
 */
import { createRequire } from 'node:module';

/** Socket option bits of `listen` and `connect` (ENGINE_OPT_* in native/src/engine.h). */
export const OPT_NODELAY = 1;
export const OPT_KEEPALIVE = 2;
/** Listeners only: SO_REUSEPORT. */
export const OPT_REUSEPORT = 4;

/** The engine's functions. Ids are generation-tagged slot numbers; failures are `-errno`. */
export interface NativeBinding {
  init(
    records: Int32Array,
    data: Uint8Array,
    receiver: { onBatch(count: number): void; onWritesDone(count: number): void },
  ): number;
  listen(
    host: string,
    port: number,
    backlog: number,
    ipv6Only: number,
    options: number,
    keepAliveDelaySeconds: number,
  ): number;
  listenUnix(path: string, backlog: number): number;
  listenerWatch(id: number, on: number): number;
  closeListener(id: number): number;
  connect(
    host: string,
    port: number,
    localHost: string,
    options: number,
    keepAliveDelaySeconds: number,
  ): number;
  connectUnix(path: string): number;
  write(id: number, data: Uint8Array): number;
  writev(id: number, list: readonly Uint8Array[]): number;
  /**
   * Where `writeBatch` finds its (id, offset, length) triples and their bytes: `triples` holds
   * n triples and then one cell, the count `onBatch` hands over for the addon to perform when
   * the batch's call returns (it calls the receiver's `onWritesDone(count)` if an answer is not 0).
   */
  setWriteBatch(triples: Int32Array, data: Uint8Array): number;
  /** Performs the first `count` triples' writes in order; each offset slot gets its answer. */
  writeBatch(count: number): number;
  shutdown(id: number): number;
  close(id: number): number;
  abort(id: number): number;
  setReading(id: number, on: number): number;
  setBuffered(id: number, on: number): number;
  readInto(id: number, buffer: Uint8Array): number;
  address(id: number, peer: number): [family: string, address: string, port: number] | number;
  isUnix(id: number): number;
  live(): number;
  /** 1 when reads and batched writes go through io_uring, 0 when one system call each. */
  ioUring(): number;
}

/** Where node-gyp puts the addon, from both `src/native/` and `dist/native/`. */
const ADDON_PATH = '../../native/build/Release/aionet.node';

let loaded: { binding: NativeBinding } | { reason: string } | undefined;

function load(): { binding: NativeBinding } | { reason: string } {
  if (process.env.AIONET_NATIVE === 'off') return { reason: 'disabled by AIONET_NATIVE=off' };
  if (process.platform !== 'linux') return { reason: `no native poller for ${process.platform}` };
  try {
    const require = createRequire(import.meta.url);
    return { binding: require(ADDON_PATH) as NativeBinding };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return {
      reason:
        code === 'MODULE_NOT_FOUND'
          ? 'the addon was not built at install (see native/build.log)'
          : `the addon failed to load: ${(error as Error).message}`,
    };
  }
}

/** The addon, or `undefined` when it is not available. */
export function nativeBinding(): NativeBinding | undefined {
  loaded ??= load();
  return 'binding' in loaded ? loaded.binding : undefined;
}

/** Why the addon is not available; `undefined` when it is. */
export function nativeUnavailableReason(): string | undefined {
  loaded ??= load();
  return 'reason' in loaded ? loaded.reason : undefined;
}
