/**
 * Which backend carries a server's or a client's connections: the `transport` option resolved
 * against what this machine has. `auto` picks the native engine where its addon was built and
 * `net` otherwise; `native` where it was not built is an error thrown at once.
 *
 * A fallback is told once per process, in one line on stderr, when `auto` was asked for by name
 * or stderr is a terminal. Left to the default with stderr piped (a service's log, a test's
 * child process) it stays quiet: the install already said the addon was not built, `aionet
 * serve`'s startup line names the transport, and `nativeUnavailableReason()` tells why.
 */
import { InvalidArgumentError } from './errors.js';
import { nativeUnavailableReason } from './native/binding.js';
import type { TransportChoice } from './options.js';

/** The backend in use: what `auto` resolves to. */
export type Backend = 'native' | 'net';

let fallbackTold = false;

/**
 * The backend a `transport` option means here.
 * @param needsNet the connection needs a `net` feature the native engine lacks (TLS, the PROXY
 *   protocol stage; a string names it for the message): `auto` then picks `net` without a
 *   word, and `native` is an error.
 * @throws InvalidArgumentError for an unknown choice, or `native` where it is not available.
 */
export function resolveBackend(
  choice: TransportChoice | undefined,
  needsNet: boolean | string = false,
): Backend {
  const wanted = choice ?? 'auto';
  if (wanted !== 'auto' && wanted !== 'native' && wanted !== 'net') {
    throw new InvalidArgumentError(
      `transport must be 'auto', 'native' or 'net', got ${String(wanted)}`,
    );
  }
  if (wanted === 'net') return 'net';
  if (needsNet !== false) {
    if (wanted === 'native') {
      const feature = typeof needsNet === 'string' ? needsNet : 'TLS';
      throw new InvalidArgumentError(
        `transport 'native' does not do ${feature}; use 'net' or 'auto'`,
      );
    }
    return 'net';
  }
  const reason = nativeUnavailableReason();
  if (reason === undefined) return 'native';
  if (wanted === 'native') {
    throw new InvalidArgumentError(`transport 'native' is not available: ${reason}`);
  }
  if (!fallbackTold && (choice === 'auto' || process.stderr.isTTY === true)) {
    fallbackTold = true;
    console.error(`aionet: native transport not available (${reason}); using net`);
  }
  return 'net';
}

/** Whether the native engine can be used in this process. */
export function nativeAvailable(): boolean {
  return nativeUnavailableReason() === undefined;
}
