/**
 * `aionet serve` as an operator sees it, as a child process: JSON logs with their events and
 * never a payload byte, the startup limits report, /metrics after a known workload, /healthz
 * through a drain, the shutdown summary, a second signal, and bad flag values.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, describe, it } from 'node:test';
import { CliProcess } from '../helpers/cli.js';
import { delay, RawClient, until } from '../helpers/net.js';

const running: CliProcess[] = [];
after(() => {
  for (const cli of running) cli.kill();
});

/** Bytes that must never reach a log line. */
const MARKER = 'PAYLOAD-7f3a9c-do-not-log';

/** `aionet serve` in the text format, with its metrics endpoint when `metrics` is set. */
async function serveText(args: string[], options: { shell?: string } = {}) {
  const { cli, port } = await CliProcess.serve(args, options);
  running.push(cli);
  const limits = (await cli.waitForLine(/^Limits: .*$/))[0];
  const metricsUrl = args.includes('--metrics-port')
    ? (await cli.waitForLine(/^Metrics on (http:\S+)$/))[1]!
    : '';
  return { cli, port, limits, metricsUrl, base: metricsUrl.replace(/\/metrics$/, '') };
}

/** `aionet serve --log-format json`: resolves once the startup event is out, with it. */
async function serveJson(args: string[]) {
  const cli = new CliProcess([
    'serve',
    '--host',
    '127.0.0.1',
    '--port',
    '0',
    '--log-format',
    'json',
    ...args,
  ]);
  running.push(cli);
  await cli.waitForLine(/"event":"startup"/);
  const startup = events(cli).find((entry) => entry.event === 'startup')!;
  const port = Number(/:(\d+)$/.exec((startup.addresses as string[])[0]!)![1]);
  return { cli, port, startup };
}

/** Every stdout line, parsed: each must be one JSON object. */
function events(cli: CliProcess): Record<string, unknown>[] {
  return cli.stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const entry = JSON.parse(line) as Record<string, unknown>;
      assert.equal(typeof entry.level, 'number', line);
      assert.equal(typeof entry.time, 'number', line);
      assert.equal(typeof entry.event, 'string', line);
      return entry;
    });
}

/** The value of one sample in Prometheus text: `name{label="value"} 12`. */
function sample(text: string, name: string, labels = ''): number | undefined {
  const wanted = labels === '' ? name : `${name}{${labels}}`;
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${wanted} `));
  return line === undefined ? undefined : Number(line.slice(wanted.length + 1));
}

/** A client that keeps its side open after the server's FIN: the server's close lingers. */
async function lingeringClient(port: number): Promise<net.Socket> {
  const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  socket.on('error', () => {});
  socket.resume();
  await new Promise((resolve) => socket.once('connect', resolve));
  return socket;
}

describe('aionet serve: logs', () => {
  it('json: one pino object per line, the expected events, never a payload byte', async () => {
    const { cli, port, startup } = await serveJson([
      '--framing',
      'line',
      '--max-frame',
      '64',
      '--max-connections',
      '2',
      '--reject-message',
      'busy\n',
    ]);
    assert.equal((startup.limits as Record<string, unknown>).maxConnections, 2);
    assert.equal(startup.msg, `Serving on 127.0.0.1:${port} (${startup.transport} transport)`);
    const polite = await RawClient.connect(port);
    const politePort = polite.socket.localPort;
    polite.socket.write(`${MARKER}\n`);
    await polite.waitFor(17);
    const abuser = await RawClient.connect(port);
    const turnedAway = await RawClient.connect(port);
    await turnedAway.closed;
    assert.equal(turnedAway.received.toString(), 'busy\n');
    abuser.socket.write(`${MARKER.repeat(10)}\n`);
    await abuser.closed;
    polite.socket.resetAndDestroy();
    await until(() => cli.stdout.includes('ERR_AIONET_CONNECTION_RESET'));
    cli.kill('SIGTERM');
    assert.equal(await cli.exited, 0);

    const log = events(cli);
    const kinds = log.map((entry) => entry.event);
    for (const kind of [
      'startup',
      'connection',
      'data',
      'limit_reject',
      'connection_error',
      'shutdown',
      'shutdown_complete',
    ]) {
      assert.ok(kinds.includes(kind), `${kind} in ${kinds.join(',')}`);
    }
    const faults = log.filter((entry) => entry.event === 'connection_error');
    assert.deepEqual(
      faults.map((entry) => entry.code),
      ['ERR_AIONET_FRAME_TOO_LARGE', 'ERR_AIONET_CONNECTION_RESET'],
      'each connection error once',
    );
    for (const fault of faults) assert.match(String(fault.peer), /^127\.0\.0\.1:\d+$/);
    const opened = log.filter((entry) => entry.event === 'connection');
    assert.equal(opened.length, 2, 'one event per connection served');
    for (const entry of opened) assert.match(String(entry.peer), /^127\.0\.0\.1:\d+$/);
    assert.equal(opened[0]!.peer, `127.0.0.1:${politePort}`);
    assert.equal(faults[1]!.level, 40);
    const reject = log.find((entry) => entry.event === 'limit_reject')!;
    assert.equal(reject.limit, 2);
    assert.ok(!cli.stdout.includes(MARKER) && !cli.stderr.includes(MARKER), 'no payload logged');
  });

  it('json --quiet drops per-connection events; --log-level debug adds connection_closed', async () => {
    const quiet = await serveJson(['--quiet']);
    const verbose = await serveJson(['--log-level', 'debug']);
    for (const { port } of [quiet, verbose]) {
      const client = await RawClient.connect(port);
      client.socket.write('x');
      await client.waitFor(16);
      client.socket.end();
      await client.closed;
    }
    await until(() => verbose.cli.stdout.includes('connection_closed'));
    quiet.cli.kill('SIGTERM');
    assert.equal(await quiet.cli.exited, 0);
    assert.deepEqual(
      events(quiet.cli).map((entry) => entry.event),
      ['startup', 'shutdown', 'shutdown_complete'],
    );
    const closed = events(verbose.cli).find((entry) => entry.event === 'connection_closed')!;
    assert.equal(closed.level, 20);
    assert.match(String(closed.peer), /^127\.0\.0\.1:\d+$/);
  });
});

describe('aionet serve: startup report', () => {
  it('one line with every effective limit, and a warning when descriptors cannot hold them', async () => {
    const { cli, limits } = await serveText(
      [
        '--quiet',
        '--max-connections',
        '1000',
        '--idle-timeout',
        '1.5',
        '--max-write-buffer',
        '200000',
        '--write-stall-timeout',
        '3',
        '--drain-timeout',
        '4',
      ],
      { shell: 'ulimit -n 256' },
    );
    assert.match(
      limits,
      /^Limits: max-connections=1000 idle-timeout=1\.5s max-write-buffer=200000 write-stall-timeout=3s drain-timeout=4s fds=256 \(~2\d\d connections\)$/,
    );
    await until(() => cli.stderr.includes('warning:'));
    assert.match(cli.stderr, /^warning: max-connections=1000 but only ~2\d\d file descriptors/m);
  });
});

describe('aionet serve: metrics', () => {
  it('/metrics counts a known workload', async () => {
    const { cli, port, metricsUrl } = await serveText([
      '--quiet',
      '--metrics-port',
      '0',
      '--max-connections',
      '2',
    ]);
    assert.match(metricsUrl, /^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const clients = await Promise.all([1, 2].map(() => RawClient.connect(port)));
    for (const client of clients) {
      client.socket.write('abc');
      await client.waitFor(16);
    }
    const rejected = await RawClient.connect(port);
    await rejected.closed;
    const during = await (await fetch(metricsUrl)).text();
    assert.equal(sample(during, 'aionet_connections_active'), 2);
    clients[0]!.socket.end();
    await clients[0]!.closed;
    await until(() => cli.stderr.includes('warning: connection limit of 2 reached'));

    const response = await fetch(metricsUrl);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/plain/);
    const text = await response.text();
    const expected: [string, string, number][] = [
      ['aionet_connections_active', '', 1],
      ['aionet_connections_max', '', 2],
      ['aionet_connections_accepted_total', '', 2],
      ['aionet_connections_rejected_total', '', 1],
      ['aionet_connections_closed_total', 'reason="normal"', 1],
      ['aionet_bytes_received_total', '', 6],
      ['aionet_bytes_sent_total', '', 32],
      ['aionet_messages_received_total', '', 2],
      ['aionet_write_buffer_paused_total', '', 0],
      ['aionet_errors_total', 'code="ERR_AIONET_CONNECTION_LIMIT"', 1],
    ];
    for (const [name, labels, value] of expected) {
      assert.equal(sample(text, name, labels), value, `${name}{${labels}}`);
    }
    assert.match(text, /^# TYPE aionet_connections_closed_total counter$/m);
    assert.match(text, /^# TYPE nodejs_eventloop_lag_seconds gauge$/m);
    assert.ok(sample(text, 'nodejs_eventloop_lag_seconds') !== undefined);
  });

  it('--idle-timeout: silent connections are closed, counted and logged once', async () => {
    const { cli, port, metricsUrl } = await serveText([
      '--quiet',
      '--metrics-port',
      '0',
      '--idle-timeout',
      '0.2',
    ]);
    const silent = await Promise.all([1, 2].map(() => RawClient.connect(port)));
    for (const client of silent) assert.equal(await client.closed, undefined, 'closed with FIN');
    const text = await (await fetch(metricsUrl)).text();
    assert.equal(sample(text, 'aionet_connections_closed_total', 'reason="idle_timeout"'), 2);
    assert.equal(sample(text, 'aionet_errors_total', 'code="ERR_AIONET_IDLE_TIMEOUT"'), 2);
    const lines = cli.stderr.split('\n').filter((line) => line.includes('IDLE_TIMEOUT'));
    assert.equal(lines.length, 2, cli.stderr);
    assert.match(
      lines[0]!,
      /^connection error \(peer 127\.0\.0\.1:\d+\): ERR_AIONET_IDLE_TIMEOUT:/,
    );
  });

  it('an idle deadline counts from the last byte, also after a lull longer than the deadline', async () => {
    const { port } = await serveText(['--quiet', '--idle-timeout', '0.4']);
    await delay(500); // the server has no connection for longer than the deadline
    const client = await RawClient.connect(port);
    client.socket.write('x');
    await client.waitFor(16);
    await delay(200);
    assert.equal(client.socket.destroyed, false, 'open 200 ms after its last byte');
    client.socket.destroy();
  });
});

describe('aionet serve: graceful shutdown', () => {
  it('/healthz: 200 while serving, 503 while draining; then the summary and exit 0', async () => {
    const { cli, port, base } = await serveText(['--quiet', '--metrics-port', '0']);
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    const lingering = await lingeringClient(port);
    await until(() => cli.child.exitCode === null);
    cli.kill('SIGTERM');
    await until(() => cli.stderr.includes('SIGTERM: shutting down'));
    const draining = await fetch(`${base}/healthz`);
    assert.equal(draining.status, 503);
    assert.equal(await draining.text(), 'draining\n');
    await assert.rejects(RawClient.connect(port), 'no longer accepting while it drains');
    lingering.end(); // the client answers the server's FIN: the connection drained
    assert.equal(await cli.exited, 0);
    assert.match(cli.stdout, /^Shut down: 1 drained, 0 aborted$/m);
    await assert.rejects(fetch(`${base}/healthz`), 'the endpoint closes after the drain');
  });

  it('--drain-timeout: what is still open then is aborted, and the summary says so', async () => {
    const { cli, port } = await serveText(['--quiet', '--drain-timeout', '0.2']);
    const lingering = await lingeringClient(port);
    const started = Date.now();
    cli.kill('SIGTERM');
    assert.equal(await cli.exited, 0);
    const took = Date.now() - started;
    assert.ok(took >= 150 && took < 1500, `took ${took} ms`);
    assert.match(cli.stdout, /^Shut down: 0 drained, 1 aborted$/m);
    lingering.destroy();
  });

  it('a second signal aborts at once: exit 130, logged', async () => {
    const { cli, port } = await serveJson(['--quiet', '--drain-timeout', '30']);
    const lingering = await lingeringClient(port);
    cli.kill('SIGTERM');
    await cli.waitForLine(/"event":"shutdown"/);
    const started = Date.now();
    cli.kill('SIGINT');
    assert.equal(await cli.exited, 130);
    assert.ok(Date.now() - started < 500, `took ${Date.now() - started} ms`);
    const forced = events(cli).find((entry) => entry.event === 'shutdown_forced')!;
    assert.equal(forced.aborted, 1);
    lingering.destroy();
  });
});

describe('aionet serve: bad operations flags', () => {
  it('usage and exit 2 (every bad value: test/unit/cli-operations-flags.test.ts)', async () => {
    const cases = [
      ['--max-connections', '0'],
      ['--log-format', 'xml'],
      ['--metrics-host', '127.0.0.1'],
    ];
    const results = await Promise.all(cases.map((args) => CliProcess.run(['serve', ...args])));
    for (const [i, { code, stderr }] of results.entries()) {
      const args = cases[i]!;
      assert.equal(code, 2, `${args.join(' ')}: ${stderr}`);
      assert.match(stderr, new RegExp(`^aionet serve: ${args[0]}.*\\nRun 'aionet serve --help'`));
    }
  });

  it('a metrics port in use: one line and exit 1', async () => {
    const { metricsUrl } = await serveText(['--quiet', '--metrics-port', '0']);
    const metricsPort = new URL(metricsUrl).port;
    const { code, stderr } = await CliProcess.run([
      'serve',
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--metrics-port',
      metricsPort,
    ]);
    assert.equal(code, 1);
    assert.equal(
      stderr,
      `metrics: cannot listen on 127.0.0.1:${metricsPort}: address already in use\n`,
    );
  });
});
