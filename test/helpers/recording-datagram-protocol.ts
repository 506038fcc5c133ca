/**
 * A datagram protocol that records every call it gets, for tests: the call grammar
 * `connectionMade (datagramReceived | errorReceived)* connectionLost` is checked with
 * `grammarViolations(protocol.events)`, and promise-based waits give the n-th datagram or error.
 */
import type {
  DatagramAddress,
  DatagramProtocolCallbacks,
  DatagramTransport,
} from '../../src/udp/index.js';

export type DatagramEvent =
  | { kind: 'made' }
  | { kind: 'datagram'; data: Buffer; address: DatagramAddress }
  | { kind: 'error'; error: Error }
  | { kind: 'lost'; error: Error | undefined };

/** What the recording protocol does besides recording. */
export interface RecordingDatagramBehaviour {
  onMade?(transport: DatagramTransport): void | Promise<void>;
  onDatagram?(
    data: Buffer,
    address: DatagramAddress,
    transport: DatagramTransport,
  ): void | Promise<void>;
  onError?(error: Error): void | Promise<void>;
  onLost?(error: Error | undefined): void;
}

export class RecordingDatagramProtocol implements DatagramProtocolCallbacks {
  readonly events: DatagramEvent[] = [];
  transport: DatagramTransport | undefined;
  readonly #behaviour: RecordingDatagramBehaviour;
  #waiters: (() => void)[] = [];
  #datagramCount = 0;
  #errorCount = 0;

  constructor(behaviour: RecordingDatagramBehaviour = {}) {
    this.#behaviour = behaviour;
  }

  connectionMade(transport: DatagramTransport): void | Promise<void> {
    this.transport = transport;
    this.#record({ kind: 'made' });
    return this.#behaviour.onMade?.(transport);
  }

  datagramReceived(data: Buffer, address: DatagramAddress): void | Promise<void> {
    this.#record({ kind: 'datagram', data, address });
    return this.#behaviour.onDatagram?.(data, address, this.transport!);
  }

  errorReceived(error: Error): void | Promise<void> {
    this.#record({ kind: 'error', error });
    return this.#behaviour.onError?.(error);
  }

  connectionLost(error?: Error): void {
    this.#record({ kind: 'lost', error });
    this.#behaviour.onLost?.(error);
  }

  datagrams(): { data: Buffer; address: DatagramAddress }[] {
    return this.events.flatMap((event) => (event.kind === 'datagram' ? [event] : []));
  }

  errors(): Error[] {
    return this.events.flatMap((event) => (event.kind === 'error' ? [event.error] : []));
  }

  kinds(): string[] {
    return this.events.map((event) => event.kind);
  }

  /** Resolves once `predicate` holds, checked after every call; rejects after `timeoutMs`. */
  until(predicate: () => boolean, timeoutMs = 3000, what = 'condition'): Promise<void> {
    if (predicate()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs);
      const check = () => {
        if (!predicate()) {
          this.#waiters.push(check);
          return;
        }
        clearTimeout(timer);
        resolve();
      };
      this.#waiters.push(check);
    });
  }

  /** Resolves with the `n`th datagram (1-based) once it arrived. */
  async datagram(n: number): Promise<{ data: Buffer; address: DatagramAddress }> {
    await this.until(() => this.#datagramCount >= n, 3000, `datagram #${n}`);
    return this.datagrams()[n - 1]!;
  }

  async error(n = 1): Promise<Error> {
    await this.until(() => this.#errorCount >= n, 3000, `error #${n}`);
    return this.errors()[n - 1]!;
  }

  #record(event: DatagramEvent): void {
    this.events.push(event);
    if (event.kind === 'datagram') this.#datagramCount++;
    if (event.kind === 'error') this.#errorCount++;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const waiter of waiters) waiter();
  }
}

/** Calls that break `made (datagram | error)* lost`, as messages; empty when the grammar holds. */
export function grammarViolations(events: readonly DatagramEvent[], closed = true): string[] {
  const problems: string[] = [];
  events.forEach((event, i) => {
    if (i === 0 && event.kind !== 'made') problems.push(`first call is ${event.kind}`);
    if (i > 0 && event.kind === 'made') problems.push(`connectionMade again at #${i}`);
    if (event.kind === 'lost' && i !== events.length - 1)
      problems.push(`calls after connectionLost`);
  });
  const lost = events.filter((event) => event.kind === 'lost').length;
  if (closed && lost !== 1) problems.push(`connectionLost called ${lost} times`);
  if (!closed && lost !== 0) problems.push('connectionLost before the end');
  return problems;
}
