/**
 * A TLS load client for `bench/tls-proxy.sh` (the C load generator speaks plain TCP only):
 * `C` connections to a chapter server, either exchanging `hello\n` / `Message received` as fast
 * as each gets its reply (`msgs`), or each opening a fresh connection, completing a full
 * handshake (no session resumption), exchanging one message and closing, over and over
 * (`handshakes`). `--plain` runs the same loops over plain TCP, to compare like with like.
 *
 *   npx tsx bench/tls-load.ts msgs|handshakes --port 7650 [-c 100] [-w 2] [-d 5] [--ca FILE] [--plain]
 *
 * Prints one line: `RESULT mode=… conns=… rate=… count=… seconds=…` (rate per second), and
 * with `--server-pid PID` the server's CPU seconds in the window and the rate per CPU second —
 * the figure that survives a busy machine.
 */
import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    port: { type: 'string', default: '7650' },
    conns: { type: 'string', short: 'c', default: '100' },
    warmup: { type: 'string', short: 'w', default: '2' },
    duration: { type: 'string', short: 'd', default: '5' },
    ca: { type: 'string' },
    plain: { type: 'boolean', default: false },
    'server-pid': { type: 'string' },
  },
});
const mode = positionals[0];
if (mode !== 'msgs' && mode !== 'handshakes') {
  throw new Error(
    'usage: tls-load.ts msgs|handshakes --port P [-c N] [-w S] [-d S] [--ca F] [--plain]',
  );
}
const port = Number(values.port);
const conns = Number(values.conns);
const warmupMs = Number(values.warmup) * 1000;
const durationMs = Number(values.duration) * 1000;
const ca = values.ca === undefined ? undefined : readFileSync(values.ca);
const plain = values.plain === true;
const MESSAGE = Buffer.from('hello\n');
const REPLY_LENGTH = 16;
const serverPid = values['server-pid'];

/** CPU seconds the server process has used (user + system), from /proc. */
function serverCpuSeconds(): number {
  if (serverPid === undefined) return 0;
  const stat = readFileSync(`/proc/${serverPid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const CLOCK_TICKS_PER_SECOND = 100;
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
}

/** Counted only inside the measured window. */
let counting = false;
let count = 0;
let stopped = false;

/** Opens one connection; resolves once it can carry data (after the handshake for TLS). */
function open(): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const options = { host: '127.0.0.1', port };
    const socket = plain
      ? net.connect(options, () => resolve(socket))
      : tls.connect(
          {
            ...options,
            servername: 'localhost',
            ...(ca === undefined ? { rejectUnauthorized: false } : { ca }),
          },
          () => resolve(socket),
        );
    socket.setNoDelay(true);
    socket.once('error', reject);
  });
}

/** Sends one message and resolves when its whole reply has arrived. */
function exchange(socket: net.Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    let received = 0;
    const onData = (data: Buffer) => {
      received += data.length;
      if (received >= REPLY_LENGTH) {
        socket.removeListener('data', onData);
        socket.removeListener('error', reject);
        resolve();
      }
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.write(MESSAGE);
  });
}

async function messageLoop(): Promise<void> {
  const socket = await open();
  while (!stopped) {
    await exchange(socket);
    if (counting) count++;
  }
  socket.destroy();
}

async function handshakeLoop(): Promise<void> {
  while (!stopped) {
    const socket = await open();
    await exchange(socket);
    socket.end();
    if (counting) count++;
  }
}

const loop = mode === 'msgs' ? messageLoop : handshakeLoop;
const loops = Array.from({ length: conns }, () => loop());
await new Promise((resolve) => setTimeout(resolve, warmupMs));
counting = true;
const started = performance.now();
const cpuBefore = serverCpuSeconds();
await new Promise((resolve) => setTimeout(resolve, durationMs));
counting = false;
const seconds = (performance.now() - started) / 1000;
const cpu = serverCpuSeconds() - cpuBefore;
stopped = true;
await Promise.allSettled(loops);
console.log(
  `RESULT mode=${mode} transport=${plain ? 'plain' : 'tls'} conns=${conns} ` +
    `rate=${Math.round(count / seconds)} count=${count} seconds=${seconds.toFixed(2)}` +
    (serverPid === undefined
      ? ''
      : ` server_cpu_s=${cpu.toFixed(2)} per_cpu_s=${cpu > 0 ? Math.round(count / cpu) : 0}`),
);
