/**
 * `createMetrics`: a prom-client registry that reads a server's running totals at scrape time.
 * Servers here are in memory (a `ConnectionRegistry` on a `TestClock`, `MemoryTransport`s), so
 * every total is known exactly.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { ConnectionRegistry } from '../../src/connection-registry.js';
import { InvalidArgumentError } from '../../src/errors.js';
import { createMetrics } from '../../src/metrics/create-metrics.js';
import { Server } from '../../src/server.js';
import { NO_LIMITS, type TransportLimits } from '../../src/stream-transport.js';
import { MemoryTransport, TestClock } from '../../src/testing/index.js';
import { RecordingProtocol } from '../helpers/recording-protocol.js';

const REPLY = Buffer.from('Message received');

/** An in-memory server: connections are `MemoryTransport`s registered as a backend would. */
function memoryServer(options: { maxConnections?: number; limits?: Partial<TransportLimits> }) {
  const clock = new TestClock();
  const registry = new ConnectionRegistry({
    onError: () => {},
    limits: { ...NO_LIMITS, ...options.limits },
    clock,
    ...(options.maxConnections === undefined ? {} : { maxConnections: options.maxConnections }),
  });
  const server = new Server([], registry, { clock });
  const connect = (): MemoryTransport | undefined => {
    if (!registry.admit()) return undefined;
    const protocol = new RecordingProtocol({ onData: (_data, t) => t.write(REPLY) });
    const transport = new MemoryTransport(protocol, { owner: registry }).start();
    registry.add(transport);
    return transport;
  };
  return { clock, server, connect };
}

/** The value of one sample in Prometheus text: `name{label="value"} 12`. */
function sample(text: string, name: string, labels = ''): number | undefined {
  const wanted = labels === '' ? name : `${name}{${labels}}`;
  for (const line of text.split('\n')) {
    const space = line.lastIndexOf(' ');
    if (line.slice(0, space) !== wanted) continue;
    const value = line.slice(space + 1);
    return value === '+Inf' ? Number.POSITIVE_INFINITY : Number(value);
  }
  return undefined;
}

describe('createMetrics', () => {
  it('reflects the server totals after a known workload', async () => {
    const { clock, server, connect } = memoryServer({
      maxConnections: 2,
      limits: { idleTimeout: 1000 },
    });
    const registry = createMetrics(server, { defaultMetrics: false });
    const first = connect()!;
    const second = connect()!;
    assert.equal(connect(), undefined, 'the third is turned away');
    first.receive('hello');
    first.receive('world!');
    second.receive('x');
    second.peerStopsReading();
    second.setWriteBufferLimits({ high: 4 });
    second.receive('y');
    second.peerResumesReading();
    first.closeFromPeer();
    clock.advance(1000); // the second one goes idle

    const text = await registry.metrics();
    assert.equal(sample(text, 'aionet_connections_accepted_total'), 2);
    assert.equal(sample(text, 'aionet_connections_rejected_total'), 1);
    assert.equal(sample(text, 'aionet_connections_active'), 0);
    assert.equal(sample(text, 'aionet_connections_max'), 2);
    assert.equal(sample(text, 'aionet_bytes_received_total'), 5 + 6 + 1 + 1);
    assert.equal(sample(text, 'aionet_bytes_sent_total'), 4 * REPLY.length);
    assert.equal(sample(text, 'aionet_messages_received_total'), 4);
    assert.equal(sample(text, 'aionet_write_buffer_paused_total'), 1);
    assert.equal(sample(text, 'aionet_connections_closed_total', 'reason="normal"'), 1);
    assert.equal(sample(text, 'aionet_connections_closed_total', 'reason="idle_timeout"'), 1);
    assert.equal(sample(text, 'aionet_connections_closed_total', 'reason="reset"'), 0);
    assert.equal(sample(text, 'aionet_errors_total', 'code="ERR_AIONET_IDLE_TIMEOUT"'), 1);
    assert.equal(sample(text, 'aionet_errors_total', 'code="ERR_AIONET_CONNECTION_LIMIT"'), 1);
  });

  it('reads the totals at every scrape', async () => {
    const { server, connect } = memoryServer({});
    const registry = createMetrics(server, { defaultMetrics: false });
    const before = await registry.metrics();
    assert.equal(sample(before, 'aionet_connections_accepted_total'), 0);
    assert.equal(sample(before, 'aionet_connections_max'), Number.POSITIVE_INFINITY);
    const transport = connect()!;
    transport.receive('abc');
    const during = await registry.metrics();
    assert.equal(sample(during, 'aionet_connections_active'), 1);
    assert.equal(sample(during, 'aionet_bytes_received_total'), 3);
    transport.reset();
    const after = await registry.metrics();
    assert.equal(sample(after, 'aionet_connections_active'), 0);
    assert.equal(sample(after, 'aionet_connections_closed_total', 'reason="reset"'), 1);
    assert.equal(sample(after, 'aionet_errors_total', 'code="ERR_AIONET_CONNECTION_RESET"'), 1);
  });

  it('names, types, help and labels', async () => {
    const { server } = memoryServer({});
    const registry = createMetrics(server);
    const metrics = new Map(
      (await registry.getMetricsAsJSON()).map((metric) => [metric.name, metric]),
    );
    const expected: Record<string, string> = {
      aionet_connections_active: 'gauge',
      aionet_connections_max: 'gauge',
      aionet_connections_accepted_total: 'counter',
      aionet_connections_rejected_total: 'counter',
      aionet_connections_closed_total: 'counter',
      aionet_bytes_received_total: 'counter',
      aionet_bytes_sent_total: 'counter',
      aionet_messages_received_total: 'counter',
      aionet_write_buffer_paused_total: 'counter',
      aionet_errors_total: 'counter',
      aionet_tls_handshakes_total: 'counter',
      aionet_tls_handshake_failures_total: 'counter',
      aionet_proxy_accepted_total: 'counter',
      aionet_proxy_rejected_total: 'counter',
      nodejs_eventloop_lag_seconds: 'gauge',
      nodejs_eventloop_lag_p99_seconds: 'gauge',
    };
    for (const [name, type] of Object.entries(expected)) {
      const metric = metrics.get(name);
      assert.ok(metric !== undefined, `${name} is registered`);
      assert.equal(String(metric.type), type, name);
      assert.ok(metric.help.length > 0, `${name} has help`);
    }
    const closed = metrics.get('aionet_connections_closed_total')!;
    assert.deepEqual(
      closed.values.map((value) => value.labels.reason),
      [
        'normal',
        'reset',
        'idle_timeout',
        'write_stall',
        'write_overflow',
        'callback_error',
        'protocol_error',
        'error',
      ],
      'every reason is exported, zeros included',
    );
    assert.deepEqual(metrics.get('aionet_errors_total')!.values, [], 'no error seen yet');
  });

  it('TLS and PROXY protocol totals, by reason', async () => {
    const { server } = memoryServer({});
    const registry = createMetrics(server, { defaultMetrics: false });
    // The TLS and PROXY stages count into these; here the totals are set as they would leave them.
    const stats = server.stats;
    stats.tlsHandshakes = 3;
    stats.tlsHandshakeFailures.timeout = 2;
    stats.proxyAccepted = 5;
    stats.proxyRejected.untrusted = 1;
    const text = await registry.metrics();
    assert.equal(sample(text, 'aionet_tls_handshakes_total'), 3);
    assert.equal(sample(text, 'aionet_tls_handshake_failures_total', 'reason="timeout"'), 2);
    assert.equal(sample(text, 'aionet_tls_handshake_failures_total', 'reason="alpn"'), 0);
    assert.equal(sample(text, 'aionet_proxy_accepted_total'), 5);
    assert.equal(sample(text, 'aionet_proxy_rejected_total', 'reason="untrusted"'), 1);
    assert.equal(sample(text, 'aionet_proxy_rejected_total', 'reason="missing"'), 0);
  });

  it('sums several servers, into a registry and with a prefix of your choice', async () => {
    const a = memoryServer({ maxConnections: 10 });
    const b = memoryServer({ maxConnections: 5 });
    a.connect()!.receive('12');
    b.connect()!.receive('345');
    const registry = new Registry();
    const returned = createMetrics([a.server, b.server], {
      registry,
      prefix: 'edge_',
      defaultMetrics: false,
    });
    assert.equal(returned, registry);
    const text = await registry.metrics();
    assert.equal(sample(text, 'edge_connections_accepted_total'), 2);
    assert.equal(sample(text, 'edge_bytes_received_total'), 5);
    assert.equal(sample(text, 'edge_connections_max'), 15);
    assert.equal(sample(text, 'aionet_connections_accepted_total'), undefined);
    assert.equal(sample(text, 'nodejs_eventloop_lag_seconds'), undefined, 'defaultMetrics: false');
  });

  it('default metrics once per registry; misuse is thrown at once', () => {
    const { server } = memoryServer({});
    const registry = createMetrics(server);
    // The same registry again under another prefix: the default metrics are not added twice.
    createMetrics(server, { registry, prefix: 'other_' });
    assert.throws(() => createMetrics(server, { registry }), InvalidArgumentError);
    assert.throws(() => createMetrics(server, { prefix: 'bad-prefix' }), InvalidArgumentError);
    assert.throws(() => createMetrics({} as Server), InvalidArgumentError);
    assert.throws(() => createMetrics([server, {} as Server]), InvalidArgumentError);
  });
});
