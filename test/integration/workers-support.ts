/**
 * Helpers of the worker tests: a group started from the fixture module with its output kept, a
 * line client that says which worker (pid) answered, and a scrape of the metrics endpoint.
 */
import net from 'node:net';
import type { ServeWorkersOptions } from '../../src/workers/serve-workers.js';
import { serveWorkers, type WorkerGroupHandle } from '../../src/workers/serve-workers.js';
import type { FixtureArgs } from './workers-fixture.js';

/** The fixture module every worker imports. */
export const FIXTURE = new URL('./workers-fixture.ts', import.meta.url);

/** A group and the lines it printed. */
export interface TestGroup {
  readonly group: WorkerGroupHandle;
  readonly port: number;
  readonly info: string[];
  readonly news: string[];
}

/** Starts a group of fixture workers on 127.0.0.1, port 0, signals left alone. */
export async function startGroup(
  options: Partial<ServeWorkersOptions> & { args?: FixtureArgs } = {},
): Promise<TestGroup> {
  const info: string[] = [];
  const news: string[] = [];
  const group = await serveWorkers({
    workers: 2,
    drainTimeout: 2000,
    ...options,
    module: FIXTURE,
    server: { host: '127.0.0.1', port: 0, transport: 'net', ...options.server },
    signals: false,
    output: { info: (line) => info.push(line), warn: (line) => news.push(line) },
  });
  const address = group.addresses[0] as { port: number };
  return { group, port: address.port, info, news };
}

/** Sends one line on a new connection; resolves with the pid of the worker that answered. */
export function askPid(port: number, line = 'hello'): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      text += chunk;
      if (text.endsWith('\n')) {
        socket.end();
        resolve(Number(text.split(' ')[0]));
      }
    });
    socket.on('error', reject);
    socket.on('close', () => reject(new Error(`closed before an answer (got '${text}')`)));
    socket.write(`${line}\n`);
  });
}

/** Sends `crash` on a new connection: the worker that gets it exits with status 3. */
export function crashOne(port: number): Promise<void> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    socket.on('error', () => {});
    socket.on('close', () => resolve());
    socket.write('crash\n');
  });
}

/** GETs `url`; resolves with the status and the body. */
export async function get(url: string): Promise<{ status: number; body: string }> {
  const response = await fetch(url);
  return { status: response.status, body: await response.text() };
}

/** The value of one sample line of a Prometheus text body (`name{labels} value`). */
export function sample(body: string, series: string): number | undefined {
  for (const line of body.split('\n')) {
    if (line.startsWith(`${series} `)) return Number(line.slice(series.length + 1));
  }
  return undefined;
}

/** Polls `predicate` every 10 ms until it holds; rejects after `timeoutMs`. */
export async function waitUntil(predicate: () => boolean, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
