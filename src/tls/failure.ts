/**
 * Turns what Node and OpenSSL report for a failed handshake into a `TlsHandshakeError` with a
 * reason from a small fixed set (for counters and dashboards) and OpenSSL's short reason text
 * (for the log line). Node's error messages name OpenSSL's source file and line; only the
 * reason text is kept. None of them ever holds key material.
 */
import { type TlsFailureReason, TlsHandshakeError } from '../errors.js';

/** OpenSSL reason texts (lower case) by the reason they count as; the first match wins. */
const REASONS: readonly (readonly [RegExp, TlsFailureReason])[] = [
  [/unsupported protocol|protocol version|unsupported version|version too low/, 'protocol_version'],
  [/no shared cipher|no suitable (key share|signature)|no shared group/, 'no_shared_cipher'],
  [/no application protocol/, 'alpn'],
  [
    /peer did not return a certificate|certificate required|certificate verify failed|bad certificate|unknown ca|certificate unknown/,
    'client_certificate',
  ],
  [
    /http request|wrong version number|packet length too long|record layer failure|unexpected message|bad record|length mismatch|decode error|record too long|unknown protocol|ssl3_get_record/,
    'malformed',
  ],
];

/** Node's own codes for a server certificate that did not verify (client side). */
const CERT_CODES =
  /^(?:ERR_TLS_CERT_ALTNAME_INVALID|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_(?:GET_ISSUER_CERT|VERIFY_LEAF_SIGNATURE|GET_ISSUER_CERT_LOCALLY)|CERT_.*)$/;

/**
 * Classifies a handshake failure. `side` says whose certificate a verification error concerns.
 */
export function handshakeError(error: unknown, side: 'server' | 'client'): TlsHandshakeError {
  const code = String((error as { code?: unknown })?.code ?? '');
  const message = error instanceof Error ? error.message : String(error);
  if (code === 'ECONNRESET' || code === 'EPIPE') {
    return new TlsHandshakeError('disconnected', `connection reset (${code})`, error);
  }
  if (CERT_CODES.test(code)) {
    const reason = side === 'client' ? 'server_certificate' : 'client_certificate';
    return new TlsHandshakeError(reason, `certificate did not verify (${code})`, error);
  }
  const detail = openSslReason(message);
  const lower = detail.toLowerCase();
  for (const [pattern, reason] of REASONS) {
    if (pattern.test(lower)) return new TlsHandshakeError(reason, detail, error);
  }
  return new TlsHandshakeError('other', detail, error);
}

/** The handshake did not complete in time. */
export function handshakeTimeoutError(timeoutMs: number): TlsHandshakeError {
  return new TlsHandshakeError('timeout', `not complete within ${timeoutMs} ms`);
}

/** The peer closed its side before the handshake completed. */
export function handshakeEofError(): TlsHandshakeError {
  return new TlsHandshakeError('disconnected', 'the peer closed the connection');
}

/**
 * OpenSSL's reason from Node's message: `write EPROTO 80…:error:0A000102:SSL
 * routines:tls_early_post_process_client_hello:unsupported protocol:../deps/…:1664:` gives
 * `unsupported protocol`. A message of another shape is kept as it is, cut to one line.
 */
function openSslReason(message: string): string {
  const match = /error:[0-9A-Fa-f]+:[^:]*:[^:]*:([^:]+)/.exec(message);
  if (match?.[1] !== undefined) return match[1].trim();
  return message.split('\n', 1)[0]!.slice(0, 200);
}
