/**
 * A protocol that records every call it gets and checks the call grammar as it goes:
 *
 *     connectionMade [dataReceived* | (getBuffer bufferUpdated)*] [eofReceived] connectionLost
 *
 * with pauseWriting / resumeWriting strictly alternating in between. Tests assert
 * `grammarViolations(protocol.events)` is empty in every test.
 */
import { type BufferedProtocolCallbacks, Protocol } from '../../src/protocol.js';
import type { Transport } from '../../src/transport.js';

export type ProtocolEvent =
  | { kind: 'made' }
  | { kind: 'data'; bytes: Buffer }
  | { kind: 'eof' }
  | { kind: 'lost'; error: Error | undefined }
  | { kind: 'pause' }
  | { kind: 'resume' };

/** What the recording protocol does besides recording. */
export interface RecordingBehaviour {
  /** Called on connectionMade, after recording. */
  onMade?(transport: Transport, protocol: RecordingProtocol): void | Promise<void>;
  /** Called on dataReceived, after recording. */
  onData?(data: Buffer, transport: Transport, protocol: RecordingProtocol): void | Promise<void>;
  /** What eofReceived returns (after onEof runs). */
  onEof?(transport: Transport, protocol: RecordingProtocol): boolean | undefined;
  onLost?(error: Error | undefined): void;
  /** Called on pauseWriting, after recording (flow-aware protocols only). */
  onPause?(transport: Transport, protocol: RecordingProtocol): void;
  /** Called on resumeWriting, after recording (flow-aware protocols only). */
  onResume?(transport: Transport, protocol: RecordingProtocol): void;
}

export class RecordingProtocol extends Protocol {
  readonly events: ProtocolEvent[] = [];
  transport: Transport | undefined;
  /** Resolves with connectionLost's argument. */
  readonly lost: Promise<Error | undefined>;
  #resolveLost: (error: Error | undefined) => void = () => {};
  readonly #behaviour: RecordingBehaviour;

  constructor(behaviour: RecordingBehaviour = {}) {
    super();
    this.#behaviour = behaviour;
    this.lost = new Promise((resolve) => {
      this.#resolveLost = resolve;
    });
  }

  /** Every byte received, in order. */
  received(): Buffer {
    return Buffer.concat(
      this.events.flatMap((event) => (event.kind === 'data' ? [event.bytes] : [])),
    );
  }

  kinds(): string[] {
    return this.events.map((event) => event.kind);
  }

  /** The behaviour given to the constructor. */
  protected get behaviour(): RecordingBehaviour {
    return this.#behaviour;
  }

  override connectionMade(transport: Transport): void | Promise<void> {
    this.transport = transport;
    this.events.push({ kind: 'made' });
    return this.#behaviour.onMade?.(transport, this);
  }

  override dataReceived(data: Buffer): void | Promise<void> {
    this.events.push({ kind: 'data', bytes: Buffer.from(data) });
    return this.#behaviour.onData?.(data, this.transport!, this);
  }

  override eofReceived(): boolean | undefined {
    this.events.push({ kind: 'eof' });
    return this.#behaviour.onEof?.(this.transport!, this);
  }

  override connectionLost(error?: Error): void {
    this.events.push({ kind: 'lost', error });
    this.#resolveLost(error);
    this.#behaviour.onLost?.(error);
  }
}

/** The same, but it implements pauseWriting/resumeWriting (so no safe-default read pause). */
export class FlowRecordingProtocol extends RecordingProtocol {
  override pauseWriting(): void {
    this.events.push({ kind: 'pause' });
    this.behaviour.onPause?.(this.transport!, this);
  }

  override resumeWriting(): void {
    this.events.push({ kind: 'resume' });
    this.behaviour.onResume?.(this.transport!, this);
  }
}

/**
 * A recording BufferedProtocol: `getBuffer` hands out buffers whose sizes cycle through
 * `sizes`, and each `bufferUpdated(n)` is recorded as a `data` event of those `n` bytes (and
 * goes through `onData`), so `received()` and the grammar check work unchanged.
 * `bufferProblems` lists every `bufferUpdated` that did not follow a `getBuffer` or overran it.
 */
export class BufferedRecordingProtocol
  extends RecordingProtocol
  implements BufferedProtocolCallbacks
{
  readonly bufferProblems: string[] = [];
  /** The size hints getBuffer was given, in order. */
  readonly sizeHints: number[] = [];
  readonly #sizes: readonly number[];
  #buffer: Uint8Array | undefined;

  constructor(behaviour: RecordingBehaviour = {}, sizes: readonly number[] = [64]) {
    super(behaviour);
    this.#sizes = sizes;
  }

  getBuffer(sizeHint: number): Uint8Array {
    this.sizeHints.push(sizeHint);
    const size = this.#sizes[(this.sizeHints.length - 1) % this.#sizes.length] ?? 64;
    this.#buffer = new Uint8Array(size);
    return this.#buffer;
  }

  bufferUpdated(nbytes: number): void | Promise<void> {
    const buffer = this.#buffer;
    this.#buffer = undefined;
    if (buffer === undefined) {
      this.bufferProblems.push(`bufferUpdated(${nbytes}) without getBuffer`);
      return undefined;
    }
    if (!(nbytes > 0 && nbytes <= buffer.length)) {
      this.bufferProblems.push(`bufferUpdated(${nbytes}) for a buffer of ${buffer.length}`);
    }
    return this.dataReceived(Buffer.from(buffer.subarray(0, nbytes)));
  }
}

/** The same, with pauseWriting/resumeWriting. */
export class BufferedFlowRecordingProtocol extends BufferedRecordingProtocol {
  override pauseWriting(): void {
    this.events.push({ kind: 'pause' });
    this.behaviour.onPause?.(this.transport!, this);
  }

  override resumeWriting(): void {
    this.events.push({ kind: 'resume' });
    this.behaviour.onResume?.(this.transport!, this);
  }
}

/** Lists every way `events` breaks the call grammar; empty when it holds. */
export function grammarViolations(events: readonly ProtocolEvent[]): string[] {
  const problems: string[] = [];
  let state: 'start' | 'open' | 'eof' | 'lost' = 'start';
  let paused = false;
  // A loop rather than forEach: TypeScript does not see a callback assign `state`.
  for (const [index, event] of events.entries()) {
    const at = `#${index} ${event.kind}`;
    switch (event.kind) {
      case 'made':
        if (state !== 'start') problems.push(`${at}: connectionMade twice or late`);
        state = 'open';
        break;
      case 'data':
        if (state !== 'open') problems.push(`${at}: data when ${state}`);
        break;
      case 'eof':
        if (state !== 'open') problems.push(`${at}: eof when ${state}`);
        state = 'eof';
        break;
      case 'pause':
        if (state !== 'open' && state !== 'eof') problems.push(`${at}: pause when ${state}`);
        if (paused) problems.push(`${at}: pauseWriting twice`);
        paused = true;
        break;
      case 'resume':
        if (state !== 'open' && state !== 'eof') problems.push(`${at}: resume when ${state}`);
        if (!paused) problems.push(`${at}: resumeWriting without pauseWriting`);
        paused = false;
        break;
      case 'lost':
        if (state === 'start') problems.push(`${at}: connectionLost before connectionMade`);
        if (state === 'lost') problems.push(`${at}: connectionLost twice`);
        state = 'lost';
        break;
    }
  }
  if (state !== 'lost' && events.length > 0) problems.push('connectionLost never called');
  return problems;
}
