// The book chapter's asyncio server, in TypeScript with aionet. Run: npx tsx examples/chapter-server.ts
import { createServer, Protocol, type Transport } from 'aionet';

class MessageProtocol extends Protocol {
  #transport!: Transport;

  override connectionMade(transport: Transport): void {
    console.log('Got a new connection');
    this.#transport = transport;
  }

  override dataReceived(_data: Buffer): void {
    console.log('Data received');
    this.#transport.write(Buffer.from('Message received', 'utf8'));
  }
}

const server = await createServer(() => new MessageProtocol(), { host: 'localhost', port: 7000 });
process.once('SIGINT', () => {
  server.close();
  server.closeClients();
});
await server.waitClosed();
