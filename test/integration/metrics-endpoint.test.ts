/**
 * `serveMetrics` on loopback: /metrics in Prometheus text format, /healthz following the
 * draining flag, and the bounds (no body, unknown paths, other methods, a port in use).
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { ListenError } from '../../src/errors.js';
import { createMetrics } from '../../src/metrics/create-metrics.js';
import { type MetricsEndpoint, serveMetrics } from '../../src/metrics/serve-metrics.js';
import { createServer } from '../../src/net/create-server.js';
import { RawClient } from '../helpers/net.js';

const endpoints: MetricsEndpoint[] = [];
after(async () => {
  await Promise.all(endpoints.map((endpoint) => endpoint.close()));
});

async function start(isDraining?: () => boolean, registry = new Registry()) {
  const endpoint = await serveMetrics({
    registry,
    port: 0,
    ...(isDraining === undefined ? {} : { isDraining }),
  });
  endpoints.push(endpoint);
  const base = endpoint.url.replace(/\/metrics$/, '');
  return { endpoint, base };
}

describe('serveMetrics', () => {
  it('serves a server’s metrics in Prometheus text format', async () => {
    const server = await createServer(() => ({}), { host: '127.0.0.1', port: 0 });
    const port = (server.addresses()[0] as { port: number }).port;
    const { endpoint } = await start(undefined, createMetrics(server, { defaultMetrics: false }));
    assert.match(endpoint.url, /^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const client = await RawClient.connect(port);
    client.socket.write('hello');
    await new Promise((resolve) => setTimeout(resolve, 50));
    const response = await fetch(endpoint.url);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    assert.match(text, /^# TYPE aionet_connections_active gauge$/m);
    assert.match(text, /^aionet_connections_active 1$/m);
    assert.match(text, /^aionet_bytes_received_total 5$/m);
    client.socket.destroy();
    await server[Symbol.asyncDispose]();
  });

  it('/healthz answers 200 while serving and 503 while draining', async () => {
    let draining = false;
    const { base } = await start(() => draining);
    const ok = await fetch(`${base}/healthz`);
    assert.equal(ok.status, 200);
    assert.equal(await ok.text(), 'ok\n');
    draining = true;
    const busy = await fetch(`${base}/healthz?probe=1`);
    assert.equal(busy.status, 503);
    assert.equal(await busy.text(), 'draining\n');
  });

  it('404 elsewhere, 405 for other methods, 413 for a body', async () => {
    const { base } = await start();
    assert.equal((await fetch(`${base}/`)).status, 404);
    const post = await fetch(`${base}/metrics`, { method: 'DELETE' });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get('allow'), 'GET, HEAD');
    const withBody = await rawRequest(
      base,
      'GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello',
    );
    assert.match(withBody, /^HTTP\/1\.1 413 /);
  });

  it('a port in use is a ListenError; close() is idempotent', async () => {
    const { endpoint } = await start();
    await assert.rejects(
      serveMetrics({ registry: new Registry(), port: endpoint.port }),
      (error: unknown) =>
        error instanceof ListenError &&
        error.message === `cannot listen on 127.0.0.1:${endpoint.port}: address already in use`,
    );
    await endpoint.close();
    await endpoint.close();
    await assert.rejects(fetch(endpoint.url));
  });
});

/** Sends raw bytes and resolves with everything the server answered before it closed. */
function rawRequest(base: string, request: string): Promise<string> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: hostname, port: Number(port) });
    let answer = '';
    socket.setEncoding('utf8');
    socket.on('data', (text: string) => {
      answer += text;
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(answer));
    socket.end(request);
  });
}
