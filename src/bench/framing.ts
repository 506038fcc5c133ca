/**
 * What the generator puts on the wire and what it expects back, for each `--framing`:
 *
 * - `none`: the message bytes as given; the reply is exactly the expected bytes. The chapter's
 *   server answers every *read* with one reply, so with one message in flight per connection
 *   there is one reply per message; should the server's kernel split a message over two reads,
 *   it answers twice and the extra bytes are counted as a wrong reply.
 * - `line`: the message is one `\n`-terminated line (the `\n` is added when missing); the reply
 *   is one line whose content (without its `\n`) is the expected text, or has the expected length.
 * - `length`: each message and reply is a 4-byte big-endian length, then that many bytes.
 *
 * In every framing the whole reply has a size known in advance, so one fixed-size
 * {@link ReplySpec} describes it; the matcher in `reply-matcher.ts` checks replies against it.
 */
import { Buffer } from 'node:buffer';
import { InvalidArgumentError } from '../errors.js';

/** The framings `--framing` accepts. */
export const FRAMINGS = ['none', 'line', 'length'] as const;

/** How messages and replies are delimited on the wire. */
export type Framing = (typeof FRAMINGS)[number];

/** Bytes in the length prefix of the `length` framing. */
export const LENGTH_PREFIX_BYTES = 4;

/** Byte value of `\n`, the `line` framing's terminator. */
const NEWLINE = 0x0a;

/** What the reply to one message must look like. */
export interface ReplySpec {
  /** The reply's total size on the wire, in bytes, framing included. */
  readonly size: number;
  /**
   * The reply's exact bytes, framing included, when the content is known; `undefined` when only
   * the length is checked (`--expect-bytes`).
   */
  readonly exact: Buffer | undefined;
  /** For `length` with `--expect-bytes`: the prefix every reply must start with. */
  readonly prefix: Buffer | undefined;
  /**
   * For `line` with `--expect-bytes`: no `\n` may come before the last byte, which must be one;
   * a short line is then a wrong reply at once rather than a timeout.
   */
  readonly lineTerminated: boolean;
}

/** What the reply is expected to be: its content, or only its length. */
export type Expectation = { readonly text: Buffer } | { readonly bytes: number };

/** The bytes to send for one message in a framing. */
export function frameMessage(message: Buffer, framing: Framing): Buffer {
  switch (framing) {
    case 'none':
      return message;
    case 'line': {
      const end = message.indexOf(NEWLINE);
      if (end !== -1 && end !== message.length - 1) {
        throw new InvalidArgumentError('with --framing line the message must be a single line');
      }
      return end === -1 ? Buffer.concat([message, Buffer.of(NEWLINE)]) : message;
    }
    case 'length':
      return Buffer.concat([lengthPrefix(message.length), message]);
  }
}

/** The spec of the reply to expect in a framing. */
export function replySpec(expectation: Expectation, framing: Framing): ReplySpec {
  if ('text' in expectation) {
    const exact = frameReply(expectation.text, framing);
    return { size: exact.length, exact, prefix: undefined, lineTerminated: false };
  }
  const bytes = expectation.bytes;
  switch (framing) {
    case 'none':
      return { size: bytes, exact: undefined, prefix: undefined, lineTerminated: false };
    case 'line':
      return { size: bytes + 1, exact: undefined, prefix: undefined, lineTerminated: true };
    case 'length':
      return {
        size: LENGTH_PREFIX_BYTES + bytes,
        exact: undefined,
        prefix: lengthPrefix(bytes),
        lineTerminated: false,
      };
  }
}

function frameReply(text: Buffer, framing: Framing): Buffer {
  switch (framing) {
    case 'none':
      return text;
    case 'line': {
      // The expected text names the line's content; a trailing `\n` given with it is the
      // terminator, not part of the content.
      const content = text.at(-1) === NEWLINE ? text.subarray(0, -1) : text;
      if (content.includes(NEWLINE)) {
        throw new InvalidArgumentError('with --framing line the expected reply must be one line');
      }
      return Buffer.concat([content, Buffer.of(NEWLINE)]);
    }
    case 'length':
      return Buffer.concat([lengthPrefix(text.length), text]);
  }
}

function lengthPrefix(length: number): Buffer {
  const prefix = Buffer.alloc(LENGTH_PREFIX_BYTES);
  prefix.writeUInt32BE(length, 0);
  return prefix;
}
