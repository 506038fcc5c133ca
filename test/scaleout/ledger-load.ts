/**
 * The load through the balancer, and its ledger: `clients` logical clients, each on one TCP
 * connection at a time, sending `<client> <seq>` and waiting for its acknowledgement before
 * the next (one message in flight). When its connection ends — a FIN from a draining
 * instance, or a reset — the client notes how it ended, which instance it was on and whether a
 * message was in flight, reconnects, and sends the unacknowledged message again.
 *
 * So every message is acknowledged in the end, and the ledger can show that none was
 * acknowledged twice, that each acknowledgement is in the ledger of the instance that gave it,
 * and which connection ends lost a message in flight (and on which instance).
 */
import net from 'node:net';

/** How one connection ended. */
export interface ConnectionEnd {
  readonly client: number;
  /** The instance that acknowledged on it (`-` when none did). */
  readonly instance: string;
  /** `fin`: the server closed cleanly; `reset` (or another error code). */
  readonly how: string;
  /** A message was sent on it and not acknowledged. */
  readonly inFlight: boolean;
  /** That message, `<client> <seq>`. */
  readonly key: string | undefined;
  /** `performance.now()` when it ended. */
  readonly at: number;
}

/** An acknowledgement as received. */
export interface Ack {
  readonly key: string;
  readonly instance: string;
  /** The client address the instance saw (from the PROXY header). */
  readonly peer: string;
  /** The client's own address of that connection. */
  readonly local: string;
}

/** Milliseconds before a client reconnects after its connection ended. */
const RECONNECT_DELAY_MS = 20;

/** The load and everything it saw. */
export class LedgerLoad {
  readonly acks: Ack[] = [];
  readonly ends: ConnectionEnd[] = [];
  /** Connections opened, over all clients. */
  connections = 0;
  /** Duplicate acknowledgements (the same `<client> <seq>` twice). */
  duplicates = 0;
  /** Acknowledgements that did not match the message in flight. */
  mismatches = 0;
  readonly #seen = new Set<string>();
  readonly #next: number[];
  #running = true;
  readonly #port: number;
  readonly #live = new Set<net.Socket>();
  readonly #idle: Promise<void>[] = [];

  constructor(port: number, clients: number) {
    this.#port = port;
    this.#next = Array.from({ length: clients }, () => 0);
    for (let client = 0; client < clients; client++) this.#connect(client);
  }

  /** Messages each client has had acknowledged: seqs 0..n−1. */
  get acknowledged(): readonly number[] {
    return this.#next;
  }

  /** Stops sending; each client closes once its message in flight is acknowledged. */
  async stop(): Promise<void> {
    this.#running = false;
    const closing = [...this.#live].map(
      (socket) =>
        new Promise<void>((resolve) => {
          if (socket.destroyed) resolve();
          else socket.once('close', () => resolve());
        }),
    );
    const bound = new Promise((resolve) => setTimeout(resolve, 3000));
    await Promise.race([Promise.all(closing), bound]);
    for (const socket of this.#live) socket.destroy();
    await Promise.all(this.#idle);
  }

  #connect(client: number): void {
    if (!this.#running) return;
    this.connections++;
    const socket = net.connect({ port: this.#port, host: '127.0.0.1' });
    this.#live.add(socket);
    let instance = '-';
    let inFlight = false;
    let pending = '';
    let error: string | undefined;
    let fin = false;
    const send = (): void => {
      if (!this.#running) {
        socket.end();
        return;
      }
      inFlight = true;
      socket.write(`${client} ${this.#next[client]}\n`);
    };
    socket.setEncoding('latin1');
    socket.on('connect', send);
    socket.on('data', (chunk: string) => {
      pending += chunk;
      for (let end = pending.indexOf('\n'); end !== -1; end = pending.indexOf('\n')) {
        const line = pending.slice(0, end);
        pending = pending.slice(end + 1);
        const [word, who, seq, name, peer] = line.split(' ');
        const key = `${who} ${seq}`;
        if (word !== 'ack' || !inFlight || key !== `${client} ${this.#next[client]}`) {
          this.mismatches++;
          continue;
        }
        if (this.#seen.has(key)) this.duplicates++;
        this.#seen.add(key);
        instance = name ?? '?';
        this.acks.push({
          key,
          instance,
          peer: peer ?? '-',
          local: `${socket.localAddress}:${socket.localPort}`,
        });
        inFlight = false;
        this.#next[client]!++;
        if (!fin) send();
      }
    });
    socket.on('end', () => {
      fin = true;
      socket.end();
    });
    socket.on('error', (e: NodeJS.ErrnoException) => {
      error = e.code ?? e.message;
    });
    socket.on('close', () => {
      this.#live.delete(socket);
      const how = error ?? (fin ? 'fin' : 'closed');
      const key = inFlight ? `${client} ${this.#next[client]}` : undefined;
      this.ends.push({ client, instance, how, inFlight, key, at: performance.now() });
      if (!this.#running) return;
      this.#idle.push(
        new Promise((resolve) =>
          setTimeout(() => {
            this.#connect(client);
            resolve();
          }, RECONNECT_DELAY_MS),
        ),
      );
    });
  }
}
