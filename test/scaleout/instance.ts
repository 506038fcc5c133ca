/**
 * One aionet instance behind the balancer, in its own process:
 * `node --import tsx instance.ts '<json config>'`. It acknowledges every ledger message
 * `<client> <seq>` with `ack <client> <seq> <instance> <peer>` — `peer` being the client
 * address it sees, which the PROXY protocol header carries through HAProxy — and keeps the
 * ledger of what it acknowledged. It serves `/healthz` (and `/metrics`) for HAProxy's checks,
 * prints `listening <port> <metrics port>`, and on SIGTERM drains: `/healthz` turns 503, each
 * connection is closed right after its next acknowledgement (or when idle), and the ledger is
 * written as JSON before it exits 0.
 */
import { writeFileSync } from 'node:fs';
import { FramedProtocol } from '../../src/codecs/framed-protocol.js';
import { LineCodec } from '../../src/codecs/line-codec.js';
import { createServer } from '../../src/create-server.js';
import { createMetrics } from '../../src/metrics/create-metrics.js';
import { serveMetrics } from '../../src/metrics/serve-metrics.js';
import type { ServerOptions } from '../../src/options.js';
import { formatAddress, type Transport } from '../../src/transport.js';

/** What the test asks of an instance. */
export interface InstanceConfig {
  readonly name: string;
  readonly port: number;
  readonly metricsPort: number;
  readonly transport: 'net' | 'native';
  /** Read a PROXY protocol header (v1 or v2) from the balancer on 127.0.0.1. */
  readonly proxy: boolean;
  readonly drainTimeout: number;
  /** Where the ledger goes on SIGTERM. */
  readonly ledgerPath: string;
}

/** What an instance writes when it has drained. */
export interface InstanceLedger {
  readonly name: string;
  /** Every acknowledgement it sent: `<client> <seq>`. */
  readonly acked: string[];
  readonly drained: number;
  readonly aborted: number;
  readonly accepted: number;
  /** Milliseconds from SIGTERM to the end of the drain. */
  readonly drainMs: number;
}

/**
 * Milliseconds a draining connection may stay idle before it is closed: a ledger client sends
 * its next message within a few ms of an acknowledgement, so this only catches idle ones.
 */
const IDLE_CLOSE_MS = 300;

const config = JSON.parse(process.argv[2] ?? '{}') as InstanceConfig;
const acked: string[] = [];

class LedgerAck extends FramedProtocol<Buffer, Uint8Array> {
  #peer = '-';
  #closing = false;

  constructor() {
    super(new LineCodec());
  }

  override connectionMade(transport: Transport): void {
    super.connectionMade(transport);
    const peer = transport.getExtraInfo('peername');
    if (peer !== undefined) this.#peer = formatAddress(peer);
  }

  override frameReceived(frame: Buffer): void {
    const key = frame.toString('latin1');
    acked.push(key);
    this.transport.write(Buffer.from(`ack ${key} ${config.name} ${this.#peer}\n`, 'latin1'));
    if (this.#closing) this.transport.close();
  }

  shutdownRequested(): boolean {
    this.#closing = true;
    setTimeout(() => this.transport.close(), IDLE_CLOSE_MS).unref();
    return true;
  }
}

const options: ServerOptions & Record<string, unknown> = {
  host: '127.0.0.1',
  port: config.port,
  transport: config.transport,
  ...(config.proxy ? { proxyProtocol: { trusted: ['127.0.0.1'] } } : {}),
};
const server = await createServer(() => new LedgerAck(), options);
const metrics = await serveMetrics({
  registry: createMetrics(server, { defaultMetrics: false }),
  port: config.metricsPort,
  isDraining: () => server.isDraining(),
});

process.once('SIGTERM', () => {
  const started = performance.now();
  void server.shutdown({ drainTimeout: config.drainTimeout }).then(async (summary) => {
    const ledger: InstanceLedger = {
      name: config.name,
      acked,
      drained: summary.drained,
      aborted: summary.aborted,
      accepted: server.stats.accepted,
      drainMs: performance.now() - started,
    };
    writeFileSync(config.ledgerPath, JSON.stringify(ledger));
    await metrics.close();
    process.exit(0);
  });
});

const port = (server.addresses()[0] as { port: number }).port;
process.stdout.write(`listening ${port} ${metrics.port}\n`);
