/**
 * `aionet/proxy`: the PROXY protocol (haproxy's, versions 1 and 2) as pure functions — parse a
 * header from a connection's first bytes, encode one, and check that the peer sending it is a
 * trusted proxy. No I/O; the wiring into servers lives elsewhere. Public names only, no logic.
 */
export { type Cidr, CidrList, isTrusted, parseCidr } from './cidr.js';
export {
  DEFAULT_V2_MAX_LENGTH,
  SslClientFlag,
  SslSubtype,
  TlvType,
  UNIQUE_ID_MAX_LENGTH,
  V1_MAX_LENGTH,
  V2_HARD_MAX_LENGTH,
  V2_SIGNATURE,
} from './constants.js';
export { crc32c } from './crc32c.js';
export { encodeProxyHeader, type ProxyEncodeOptions } from './encode.js';
export { type ProxyErrorReason, ProxyProtocolError } from './errors.js';
export {
  type InetSocketAddress,
  type ProxyCommand,
  type ProxyHeader,
  type ProxyHeaderInput,
  type ProxyInetHeader,
  type ProxySslInfo,
  type ProxyTlv,
  type ProxyTlvs,
  type ProxyTlvsInput,
  type ProxyTransport,
  type ProxyUnixHeader,
  type ProxyUnknownHeader,
  proxiedAddresses,
  type UnixSocketAddress,
} from './header.js';
export { type ProxyParseOptions, type ProxyParseResult, parseProxyHeader } from './parse.js';
export { type ProxyFeedResult, ProxyHeaderParser } from './parser.js';
export type { ProxyProtocolOptions } from './server-options.js';
export { decodeProxyTlvs } from './tlv.js';
export {
  alpnTlv,
  authorityTlv,
  crc32cTlv,
  netnsTlv,
  noopTlv,
  type SslTlvInit,
  sslTlv,
  uniqueIdTlv,
} from './tlv-builders.js';
