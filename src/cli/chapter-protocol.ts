/**
 * The book chapter's `MessageProtocol`, in TypeScript: say when a connection arrives and when
 * data is read, and answer every read with a fixed reply.
 */
import type { Codec } from '../codecs/codec.js';
import { FramedProtocol } from '../codecs/framed-protocol.js';
import { Protocol } from '../protocol.js';
import type { Transport } from '../transport.js';

/**
 * Where the chapter's lines go; `undefined` for `--quiet`. The transport comes with the
 * connection line, for a sink that logs the peer (the JSON log); the text sink ignores it.
 */
export type LineSink = ((line: string, transport?: Transport) => void) | undefined;

export class MessageProtocol extends Protocol {
  #transport: Transport | undefined;
  readonly #reply: Buffer;
  readonly #print: LineSink;

  constructor(reply: Buffer, print: LineSink) {
    super();
    this.#reply = reply;
    this.#print = print;
  }

  override connectionMade(transport: Transport): void {
    this.#print?.('Got a new connection', transport);
    this.#transport = transport;
  }

  override dataReceived(_data: Buffer): void {
    this.#print?.('Data received');
    this.#transport!.write(this.#reply);
  }
}

/**
 * The chapter's protocol over a framing: one reply per whole message instead of per read. The
 * reply is encoded once, up front, and written as is.
 */
export class FramedMessageProtocol extends FramedProtocol<Buffer, Uint8Array> {
  readonly #encodedReply: Buffer;
  readonly #print: LineSink;

  constructor(codec: Codec<Buffer, Uint8Array>, encodedReply: Buffer, print: LineSink) {
    super(codec);
    this.#encodedReply = encodedReply;
    this.#print = print;
  }

  override connectionMade(transport: Transport): void {
    this.#print?.('Got a new connection', transport);
    super.connectionMade(transport);
  }

  override frameReceived(_frame: Buffer): void {
    this.#print?.('Data received');
    this.transport.write(this.#encodedReply);
  }
}
