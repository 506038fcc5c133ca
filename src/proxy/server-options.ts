/**
 * The server option that turns the PROXY protocol on (`createServer(factory, { proxyProtocol })`)
 * and the facts it adds to `getExtraInfo`. Types only; the wiring is `src/net/proxy-stage.ts`,
 * the reference is docs/proxy.md.
 */
import type { ProxyHeader, ProxyTlvs } from './header.js';

/** How a server reads the PROXY protocol header in front of each connection. */
export interface ProxyProtocolOptions {
  /**
   * The proxies allowed to speak for clients: CIDR networks or single addresses
   * (`10.0.0.0/8`, `127.0.0.1`, `fd00::/8`). A header from any other source is refused
   * (spoofing). At least one entry.
   */
  readonly trusted: readonly string[];
  /**
   * Every connection must come from a trusted proxy and start with a header (the spec's
   * advice: a receiver must not guess). With `false`, a connection that does not start with a
   * header is served with its real addresses — trusted source or not — and a header is still
   * refused from an untrusted source; a connection that sends nothing is served once the
   * `timeout` has passed (so prefer `true` for protocols where the server speaks first).
   * @default true
   */
  readonly required?: boolean;
  /** Milliseconds the whole header may take to arrive. @default 3000 */
  readonly timeout?: number;
  /** The largest v2 header accepted, in bytes (16 to 65551). @default 4096 */
  readonly maxV2Length?: number;
}

declare module '../transport.js' {
  interface ExtraInfo {
    /**
     * With the PROXY protocol: the address of the proxy that relayed the connection (the socket's
     * real peer); `peername` is then the client's address from the header.
     */
    proxyPeername?: SocketAddress | undefined;
    /** With the PROXY protocol: the header's v2 TLVs (empty for v1). */
    proxyTlvs?: ProxyTlvs | undefined;
    /** With the PROXY protocol: the whole header (version, command, both addresses, TLVs). */
    proxyHeader?: ProxyHeader | undefined;
  }
}
