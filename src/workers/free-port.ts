/**
 * Picks a free TCP port for a cluster-mode group asked to listen on port 0.
 *
 * In cluster mode the primary keeps one listening handle per address and port *as asked*: with
 * port 0, the handle lives only while some worker uses it, and a worker restarted after the
 * last one died would get a new random port. Fixing the port up front keeps the group on one
 * port for its whole life. (Another process could take the port between the probe and the
 * first listen: the first worker then fails to start, and the group says so.)
 */
import net from 'node:net';

/** A port that was free on `host` a moment ago. */
export function pickFreePort(host: string | undefined): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen({ host: host ?? '0.0.0.0', port: 0, exclusive: true }, () => {
      const address = probe.address() as net.AddressInfo;
      probe.close(() => resolve(address.port));
    });
  });
}
