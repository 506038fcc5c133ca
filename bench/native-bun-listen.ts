/**
 * The reference server on Bun: `Bun.listen` answering every read with the 16 bytes
 * "Message received", like ../shared/bench/anchors/node_net.mjs on Node. Run by bench/native.ts
 * as `bun bench/native-bun-listen.ts PORT`.
 */
interface BunSocket {
  write(data: Uint8Array): number;
}
declare const Bun: {
  listen(options: {
    hostname: string;
    port: number;
    socket: { data(socket: BunSocket, data: Uint8Array): void; error(): void };
  }): unknown;
};

const REPLY = new TextEncoder().encode('Message received');
const port = Number(process.argv[2] ?? 7000);

Bun.listen({
  hostname: '127.0.0.1',
  port,
  socket: {
    data(socket) {
      socket.write(REPLY);
    },
    error() {},
  },
});
