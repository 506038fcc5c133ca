// A workload for memcheck: every path of the native engine once or more — accept, read, write
// queue and flush, backpressure, close with a queue, close waiting for the peer's FIN, abort,
// half-close, in-place reads, a Unix listener, outgoing connects (ok and refused), a listener
// closed with connections left — then everything is closed and the process exits on its own,
// so the addon's teardown runs too. Runs the built package (dist/); `valgrind.sh` drives it.
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { BufferedProtocol, createConnection, createServer, Protocol } from '../../dist/index.js';
import { nativeLoop } from '../../dist/native/loop.js';

const REPLY = Buffer.from('Message received');
const BIG = Buffer.alloc(512 * 1024, 7);

class Chapter extends Protocol {
  connectionMade(transport) {
    this.transport = transport;
  }
  dataReceived(data) {
    const text = data.toString();
    if (text.startsWith('big')) this.transport.write(BIG);
    else if (text.startsWith('abort')) this.transport.abort();
    else if (text.startsWith('close')) {
      this.transport.write(BIG);
      this.transport.close();
    } else if (text.startsWith('half')) {
      this.half = true;
      this.transport.write(REPLY);
      this.transport.writeEof();
    } else {
      // One write deferred to the batch's end, one straight to the engine.
      this.transport.write(REPLY);
      this.transport.writeLines([REPLY]);
    }
  }
  eofReceived() {
    return this.half === true;
  }
}

class InPlace extends BufferedProtocol {
  #buffer = new Uint8Array(100);
  connectionMade(transport) {
    this.transport = transport;
  }
  getBuffer() {
    return this.#buffer;
  }
  bufferUpdated(n) {
    this.transport.write(this.#buffer.subarray(0, n));
  }
}

/** Sends `message`, ends once `expect` bytes came back (or at the server's FIN). */
function client(port, message, expect, { read = true } = {}) {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true }, () => {
      socket.write(message);
      if (message === 'half') socket.end();
    });
    if (!read) socket.pause();
    let got = 0;
    socket.on('data', (data) => {
      got += data.length;
      if (got >= expect) socket.end();
    });
    socket.on('end', () => socket.end());
    socket.on('error', () => {});
    socket.on('close', () => resolve(got));
    if (!read) setTimeout(() => socket.destroy(), 100);
  });
}

const errors = [];
const onError = (error) => errors.push(error);
const server = await createServer(() => new Chapter(), {
  host: '127.0.0.1',
  port: 0,
  transport: 'native',
  onError,
});
const port = server.addresses()[0].port;
const inPlace = await createServer(() => new InPlace(), {
  host: '127.0.0.1',
  port: 0,
  transport: 'native',
  onError,
});
const path = `/tmp/aionet-memcheck-${process.pid}.sock`;
const unix = await createServer(() => new Chapter(), { path, transport: 'native', onError });

for (let round = 0; round < 3; round++) {
  await Promise.all([
    ...Array.from({ length: 20 }, () => client(port, 'hello', 32)),
    client(port, 'big', BIG.length),
    client(port, 'big', BIG.length, { read: false }),
    client(port, 'close', BIG.length),
    client(port, 'abort', 1),
    client(port, 'half', 16),
    client(inPlace.addresses()[0].port, 'x'.repeat(1000), 1000),
  ]);
}

// Outgoing connections on the engine: one to the Unix listener, one refused.
const [transport] = await createConnection(() => new Protocol(), { path, transport: 'native' });
transport.write(Buffer.from('hello'));
await new Promise((resolve) => setTimeout(resolve, 50));
transport.close();
const probe = net.createServer().listen(0, '127.0.0.1');
await new Promise((resolve) => probe.once('listening', resolve));
const closedPort = probe.address().port;
await new Promise((resolve) => probe.close(resolve));
await createConnection(() => new Protocol(), {
  host: '127.0.0.1',
  port: closedPort,
  transport: 'native',
}).catch(() => {});

// A connection still open when its server closes: reset by abortClients.
const lingering = net.connect({ port, host: '127.0.0.1' });
lingering.on('error', () => {});
await new Promise((resolve) => lingering.once('connect', resolve));
await new Promise((resolve) => setTimeout(resolve, 50));
for (const s of [server, inPlace, unix]) {
  s.close();
  s.abortClients();
  await s.waitClosed();
}
lingering.destroy();
// The I/O mode asked for must be the one in use: 0 when AIONET_IO_URING=0; 1 otherwise, where
// the kernel offers io_uring (kernel.io_uring_disabled is 0).
const uring = nativeLoop().binding.ioUring();
let allowed = '';
try {
  allowed = readFileSync('/proc/sys/kernel/io_uring_disabled', 'utf8').trim();
} catch {}
const expected = process.env.AIONET_IO_URING === '0' ? 0 : allowed === '0' ? 1 : uring;
if (uring !== expected) throw new Error(`io_uring in use: ${uring}, expected ${expected}`);
console.log(`workload done (${errors.length} reported errors, io_uring ${uring})`);
