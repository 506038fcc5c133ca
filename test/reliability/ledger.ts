/**
 * The ledger protocol's wire format and its seeded fates, shared by the fixture server and the
 * load clients so both sides agree on what each message is and what becomes of it.
 *
 * A message is `<connId> <seq>` or `<connId> <seq> <fill>` (ask for `fill` bytes of padding in
 * the ack); an ack is `ack <connId> <seq>` plus that padding. Framing `line` ends each with
 * `\n`; framing `length` puts a 4-byte big-endian length before each. Framing `none` has no
 * ledger: the server answers every read with `ok\n`.
 *
 * A message's fate (handled normally, thrown on, rejected, handled slowly) is a pure function
 * of the seed, the connection id and the sequence number, so a client knows in advance which
 * of its messages must go unacknowledged.
 */

/** How the fixture frames its messages. */
export type Framing = 'none' | 'line' | 'length';

/** What the server's handler does with one message. */
export type Fate = 'ok' | 'throw' | 'reject' | 'slow';

/** Probabilities (0 to 1) of each non-`ok` fate, per message. */
export interface FateRates {
  readonly throw?: number;
  readonly reject?: number;
  readonly slow?: number;
}

/** A 32-bit hash of a seed, a text and a number (FNV-1a, then a murmur finaliser). */
export function hash32(seed: number, text: string, n: number): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  h = Math.imul(h ^ n, 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The fate of message `seq` of connection `connId`. */
export function fate(seed: number, connId: string, seq: number, rates: FateRates): Fate {
  const x = hash32(seed, connId, seq) / 2 ** 32;
  let edge = rates.throw ?? 0;
  if (x < edge) return 'throw';
  edge += rates.reject ?? 0;
  if (x < edge) return 'reject';
  edge += rates.slow ?? 0;
  if (x < edge) return 'slow';
  return 'ok';
}

/** A seeded PRNG (mulberry32): numbers in [0, 1). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** Frames a payload: `\n` after it (line), or a 4-byte big-endian length before it (length). */
export function frame(framing: Framing, payload: Buffer): Buffer {
  if (framing === 'length') {
    const header = Buffer.allocUnsafe(4);
    header.writeUInt32BE(payload.length, 0);
    return Buffer.concat([header, payload]);
  }
  return Buffer.concat([payload, NEWLINE]);
}

const NEWLINE = Buffer.from('\n');

/** A framed message, ready to write. */
export function encodeMessage(framing: Framing, connId: string, seq: number, fill = 0): Buffer {
  const text = fill > 0 ? `${connId} ${seq} ${fill}` : `${connId} ${seq}`;
  return frame(framing, Buffer.from(text, 'latin1'));
}

/** A parsed message; `undefined` when the payload is not one. */
export interface Message {
  readonly connId: string;
  readonly seq: number;
  readonly fill: number;
}

/** Largest padding a message may ask for, in bytes: a client cannot make the server allocate more. */
export const MAX_FILL = 1024 * 1024;

/** Parses a message payload; `undefined` when it is not a ledger message. */
export function parseMessage(payload: Buffer): Message | undefined {
  if (payload.length > 64) return undefined;
  const parts = payload.toString('latin1').split(' ');
  if (parts.length < 2 || parts.length > 3) return undefined;
  const [connId, seqText, fillText] = parts as [string, string, string | undefined];
  if (!/^[\w.-]{1,32}$/.test(connId) || !/^\d{1,9}$/.test(seqText)) return undefined;
  const fill = fillText === undefined ? 0 : /^\d{1,7}$/.test(fillText) ? Number(fillText) : -1;
  if (fill < 0 || fill > MAX_FILL) return undefined;
  return { connId, seq: Number(seqText), fill };
}

/** The ack payload (unframed) for a message. */
export function ackPayload(message: Message): Buffer {
  const head = `ack ${message.connId} ${message.seq}`;
  if (message.fill === 0) return Buffer.from(head, 'latin1');
  const payload = Buffer.alloc(head.length + 1 + message.fill, 0x78); // 'x'
  payload.write(`${head} `, 0, 'latin1');
  return payload;
}

/** Bytes of a frame's start kept for parsing: enough for `ack <connId> <seq>`. */
const PREFIX_BYTES = 64;

/**
 * Splits received bytes into frames and hands each frame's first bytes (as latin1 text) to
 * `onFrame`, without ever holding a whole large frame: padding is skipped, not buffered.
 */
export class FramePrefixParser {
  readonly #framing: Framing;
  readonly #onFrame: (prefix: string) => void;
  #prefix = '';
  /** length framing: header bytes gathered so far, and body bytes still to come. */
  #header = Buffer.alloc(4);
  #headerFill = 0;
  #bodyLeft = -1;

  constructor(framing: Framing, onFrame: (prefix: string) => void) {
    this.#framing = framing;
    this.#onFrame = onFrame;
  }

  push(chunk: Buffer): void {
    if (this.#framing === 'length') this.#pushLength(chunk);
    else this.#pushLines(chunk);
  }

  #pushLines(chunk: Buffer): void {
    let start = 0;
    while (start < chunk.length) {
      const nl = chunk.indexOf(10, start);
      const end = nl === -1 ? chunk.length : nl;
      this.#keep(chunk, start, end);
      if (nl === -1) return;
      this.#emit();
      start = nl + 1;
    }
  }

  #pushLength(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.#bodyLeft < 0) {
        const n = Math.min(4 - this.#headerFill, chunk.length - at);
        chunk.copy(this.#header, this.#headerFill, at, at + n);
        this.#headerFill += n;
        at += n;
        if (this.#headerFill < 4) return;
        this.#headerFill = 0;
        this.#bodyLeft = this.#header.readUInt32BE(0);
      }
      const n = Math.min(this.#bodyLeft, chunk.length - at);
      this.#keep(chunk, at, at + n);
      at += n;
      this.#bodyLeft -= n;
      if (this.#bodyLeft === 0) {
        this.#bodyLeft = -1;
        this.#emit();
      }
    }
  }

  #keep(chunk: Buffer, start: number, end: number): void {
    const room = PREFIX_BYTES - this.#prefix.length;
    if (room > 0) this.#prefix += chunk.toString('latin1', start, Math.min(end, start + room));
  }

  #emit(): void {
    const prefix = this.#prefix;
    this.#prefix = '';
    this.#onFrame(prefix);
  }
}

/** The sequence number an ack prefix names for `connId`, or -1 when it is not such an ack. */
export function ackSeq(prefix: string, connId: string): number {
  const parts = prefix.split(' ', 3);
  if (parts[0] !== 'ack' || parts[1] !== connId || parts[2] === undefined) return -1;
  const seq = Number(parts[2]);
  return Number.isInteger(seq) && seq >= 0 ? seq : -1;
}
