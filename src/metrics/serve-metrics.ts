/**
 * A tiny HTTP endpoint for a metrics registry and a health check, on `node:http`:
 *
 * - `GET /metrics`: the registry in Prometheus text format (its own `Content-Type`);
 * - `GET /healthz`: `200 ok` while serving, `503 draining` once `isDraining()` says so;
 * - anything else: `404`; a method other than GET/HEAD: `405`; a request with a body: `413`.
 *
 * It is bounded, since it may be reachable by more than the scraper: small headers, no body, a
 * deadline per request, few connections at once.
 */
import { Buffer } from 'node:buffer';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { ListenError } from '../errors.js';

/** Options of `serveMetrics`. */
export interface MetricsEndpointOptions {
  /** The registry `GET /metrics` serves (see `createMetrics`). */
  readonly registry: Registry;
  /** TCP port; 0 picks a free one (read it from `url` or `port`). */
  readonly port: number;
  /** Address to listen on. Metrics tell a lot about a server: keep them local. @default '127.0.0.1' */
  readonly host?: string;
  /** Whether the server is draining: `GET /healthz` then answers 503. @default never */
  readonly isDraining?: () => boolean;
}

/** A listening metrics endpoint. */
export interface MetricsEndpoint {
  /** The bound port (the real one when 0 was asked for). */
  readonly port: number;
  /** Where to scrape: `http://127.0.0.1:9464/metrics`. */
  readonly url: string;
  /** Stop listening and drop open scrape connections; idempotent. */
  close(): Promise<void>;
}

/** Milliseconds a request may take, headers included, before its connection is dropped. */
const REQUEST_TIMEOUT_MS = 5_000;
/** Largest request head in bytes: a scrape sends a few short headers. */
const MAX_HEADER_BYTES = 8 * 1024;
/** Connections open at once: a scraper or two, a health checker, someone with curl. */
const MAX_CONNECTIONS = 32;

/**
 * Serve `registry` on `GET /metrics` and a health check on `GET /healthz`.
 * @throws ListenError when the address cannot be listened on.
 */
export async function serveMetrics(options: MetricsEndpointOptions): Promise<MetricsEndpoint> {
  const { registry } = options;
  const host = options.host ?? '127.0.0.1';
  const isDraining = options.isDraining ?? (() => false);
  const server = http.createServer(
    {
      maxHeaderSize: MAX_HEADER_BYTES,
      requestTimeout: REQUEST_TIMEOUT_MS,
      headersTimeout: REQUEST_TIMEOUT_MS,
    },
    (request, response) => {
      handle(request, response, registry, isDraining);
    },
  );
  server.maxConnections = MAX_CONNECTIONS;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      const where = host.includes(':') ? `[${host}]:${options.port}` : `${host}:${options.port}`;
      reject(new ListenError(where, error.code ?? 'EUNKNOWN', error));
    });
    server.listen({ port: options.port, host }, resolve);
  });
  const { port } = server.address() as AddressInfo;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  let closed: Promise<void> | undefined;
  return {
    port,
    url: `http://${urlHost}:${port}/metrics`,
    close() {
      closed ??= new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closed;
    },
  };
}

function handle(
  request: http.IncomingMessage,
  response: http.ServerResponse,
  registry: Registry,
  isDraining: () => boolean,
): void {
  response.setHeader('Cache-Control', 'no-store');
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.setHeader('Allow', 'GET, HEAD');
    reply(response, 405, 'method not allowed\n');
    return;
  }
  const length = request.headers['content-length'];
  if (
    (length !== undefined && length !== '0') ||
    request.headers['transfer-encoding'] !== undefined
  ) {
    // Not reading a body we do not want: answer and drop the connection.
    response.setHeader('Connection', 'close');
    reply(response, 413, 'no request body accepted\n');
    return;
  }
  const path = (request.url ?? '/').split('?', 1)[0];
  if (path === '/healthz') {
    if (isDraining()) reply(response, 503, 'draining\n');
    else reply(response, 200, 'ok\n');
    return;
  }
  if (path !== '/metrics') {
    reply(response, 404, 'not found\n');
    return;
  }
  registry.metrics().then(
    (text) => reply(response, 200, text, registry.contentType),
    (error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      reply(response, 500, `cannot collect metrics: ${message}\n`);
    },
  );
}

function reply(
  response: http.ServerResponse,
  status: number,
  body: string,
  contentType = 'text/plain; charset=utf-8',
): void {
  if (response.destroyed) return;
  response.writeHead(status, {
    'Content-Type': contentType,
    'Content-Length': Buffer.byteLength(body),
  });
  response.end(body);
}
