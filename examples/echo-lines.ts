// A line echo server with FramedProtocol: one reply per line, however TCP cuts the stream.
// Run: npx tsx examples/echo-lines.ts, then: npx aionet client --port 7001
import { createServer } from 'aionet';
import { FramedProtocol, LineCodec } from 'aionet/codecs';

class EchoLines extends FramedProtocol<Buffer, Uint8Array | string> {
  constructor() {
    super(new LineCodec({ maxLength: 4096 }));
  }

  override frameReceived(line: Buffer): void {
    this.sendFrame(`echo: ${line.toString('utf8')}`);
  }
}

const server = await createServer(() => new EchoLines(), { host: '127.0.0.1', port: 7001 });
console.log('echoing lines on 127.0.0.1:7001');
process.once('SIGINT', () => {
  server.close();
  server.closeClients();
});
await server.waitClosed();
