/**
 * One listening endpoint of the native engine: a TCP address or a Unix socket path, whose
 * accepted sockets become `NativeTransport`s registered with the server.
 *
 * Out of descriptors (EMFILE, ENFILE…) the engine stops watching the listening socket; this side
 * reports the failure (at most once a second) and resumes watching after `ACCEPT_BACKOFF_MS`,
 * so a full descriptor table costs neither a busy loop nor a log flood.
 */
import { isIPv6 } from 'node:net';
import { ACCEPT_BACKOFF_MS, REPORT_INTERVAL_MS } from '../constants.js';
import { explainErrno, ListenError, ProtocolFactoryError, SocketError } from '../errors.js';
import type { Endpoint, ListenSettings } from '../net/listener.js';
import type { Listener } from '../server.js';
import { formatAddress, type SocketAddress } from '../transport.js';
import { OPT_KEEPALIVE, OPT_NODELAY, OPT_REUSEPORT } from './binding.js';
import { errnoName } from './errno.js';
import type { EngineListener, NativeLoop } from './loop.js';
import { NativeTransport, type NativeTransportOptions } from './native-transport.js';

/** Starts listening on one endpoint; rejects with a `ListenError` when the OS refuses. */
export function listenNative(
  loop: NativeLoop,
  endpoint: Endpoint,
  settings: ListenSettings,
): Promise<Listener> {
  const { binding } = loop;
  let id: number;
  let wanted: string;
  let transportOptions: NativeTransportOptions = settings.transportOptions;
  if ('path' in endpoint) {
    wanted = endpoint.path;
    transportOptions = { ...transportOptions, unix: true, localPath: endpoint.path };
    id = binding.listenUnix(endpoint.path, settings.backlog);
  } else {
    const family = isIPv6(endpoint.host) ? 'IPv6' : 'IPv4';
    wanted = formatAddress({ family, address: endpoint.host, port: endpoint.port });
    id = binding.listen(
      endpoint.host,
      endpoint.port,
      settings.backlog,
      endpoint.ipv6Only === true ? 1 : 0,
      (settings.noDelay ? OPT_NODELAY : 0) |
        (settings.keepAlive ? OPT_KEEPALIVE : 0) |
        (settings.reusePort ? OPT_REUSEPORT : 0),
      Math.floor(settings.keepAliveInitialDelay / 1000),
    );
  }
  if (id < 0) return Promise.reject(new ListenError(wanted, errnoName(id)));
  let address: SocketAddress;
  if ('path' in endpoint) {
    address = { family: 'unix', path: endpoint.path };
  } else {
    const bound = binding.address(id, 0);
    address =
      typeof bound === 'number'
        ? { family: isIPv6(endpoint.host) ? 'IPv6' : 'IPv4', address: endpoint.host, port: 0 }
        : { family: bound[0] === 'IPv6' ? 'IPv6' : 'IPv4', address: bound[1], port: bound[2] };
  }
  const listener = new NativeListener(loop, id, address, settings, transportOptions);
  loop.addListener(id, listener);
  return Promise.resolve(listener);
}

class NativeListener implements Listener, EngineListener {
  readonly address: SocketAddress;
  readonly #loop: NativeLoop;
  readonly #id: number;
  readonly #settings: ListenSettings;
  readonly #transportOptions: NativeTransportOptions;
  #closed = false;
  #lastReport = 0;
  #backoff: ReturnType<typeof setTimeout> | undefined;

  constructor(
    loop: NativeLoop,
    id: number,
    address: SocketAddress,
    settings: ListenSettings,
    transportOptions: NativeTransportOptions,
  ) {
    this.#loop = loop;
    this.#id = id;
    this.address = address;
    this.#settings = settings;
    this.#transportOptions = transportOptions;
  }

  engineAccepted(id: number): void {
    const { factory, registry, rejectMessage } = this.#settings;
    if (!registry.admit()) {
      // Past the connection limit: the goodbye, FIN, then the socket, with no reset.
      if (rejectMessage !== undefined) this.#loop.binding.write(id, rejectMessage);
      this.#loop.closeDetached(id);
      return;
    }
    let protocol: ReturnType<typeof factory>;
    try {
      protocol = factory();
    } catch (error) {
      registry.reportOperationError(new ProtocolFactoryError(error), 'accept');
      this.#loop.closeDetached(id);
      return;
    }
    const transport = new NativeTransport(
      this.#loop,
      id,
      protocol,
      registry,
      this.#transportOptions,
    );
    registry.add(transport);
    transport.start();
  }

  engineAcceptError(errno: number): void {
    const now = Date.now();
    if (now - this.#lastReport >= REPORT_INTERVAL_MS) {
      this.#lastReport = now;
      const name = errnoName(errno);
      this.#settings.registry.reportOperationError(
        new SocketError(name, `accept ${name}: ${explainErrno(name)}`),
        'accept',
      );
    }
    if (this.#closed) return;
    clearTimeout(this.#backoff);
    this.#backoff = setTimeout(() => {
      this.#backoff = undefined;
      if (!this.#closed) this.#loop.binding.listenerWatch(this.#id, 1);
    }, ACCEPT_BACKOFF_MS);
    // The listening socket keeps the process alive while it is open, not this timer.
    this.#backoff.unref();
  }

  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      clearTimeout(this.#backoff);
      this.#loop.removeListener(this.#id);
      this.#loop.binding.closeListener(this.#id);
    }
    return Promise.resolve();
  }
}
