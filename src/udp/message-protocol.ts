/**
 * The book chapter's `MessageProtocol` for UDP: answer every datagram, to its sender, with a
 * fixed reply (`Message received` by default). What `aionet serve --udp` runs.
 */
import { Buffer } from 'node:buffer';
import { DatagramProtocolBase } from './datagram-protocol.js';
import type { DatagramAddress, DatagramTransport } from './datagram-transport.js';

/** Options of {@link DatagramMessageProtocol}. */
export interface DatagramMessageOptions {
  /** The reply to every datagram. @default 'Message received' */
  readonly reply?: string | Uint8Array;
  /** Where the chapter's lines go (`Data received` per datagram). @default nowhere */
  readonly print?: (line: string) => void;
}

/** The reply the chapter's servers send. */
export const DEFAULT_DATAGRAM_REPLY = 'Message received';

export class DatagramMessageProtocol extends DatagramProtocolBase {
  #transport: DatagramTransport | undefined;
  readonly #reply: Uint8Array;
  readonly #print: ((line: string) => void) | undefined;

  constructor(options: DatagramMessageOptions = {}) {
    super();
    const reply = options.reply ?? DEFAULT_DATAGRAM_REPLY;
    // Encoded once: every datagram gets the very same bytes.
    this.#reply = typeof reply === 'string' ? Buffer.from(reply, 'utf8') : reply;
    this.#print = options.print;
  }

  override connectionMade(transport: DatagramTransport): void {
    this.#transport = transport;
  }

  override datagramReceived(_data: Buffer, address: DatagramAddress): void {
    this.#print?.('Data received');
    this.#transport?.sendTo(this.#reply, address);
  }

  /** A reply could not be sent (the sender is gone…): say so, keep serving the others. */
  override errorReceived(error: Error): void {
    this.#print?.(`Error received: ${error.message}`);
  }
}
