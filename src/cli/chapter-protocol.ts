/**
 * The book chapter's `MessageProtocol`, in TypeScript: say when a connection arrives and when
 * data is read, and answer every read with a fixed reply.
 */
import { Protocol } from '../protocol.js';
import type { Transport } from '../transport.js';

/** Where the chapter's lines go; `undefined` for `--quiet`. */
export type LineSink = ((line: string) => void) | undefined;

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
    this.#print?.('Got a new connection');
    this.#transport = transport;
  }

  override dataReceived(_data: Buffer): void {
    this.#print?.('Data received');
    this.#transport!.write(this.#reply);
  }
}
