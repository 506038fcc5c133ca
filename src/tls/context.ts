/**
 * TLS options made ready for handshakes: checked, turned into OpenSSL secure contexts once (the
 * default one and one per SNI name) with aionet's defaults — TLS 1.2 at least, no
 * renegotiation, a 10 s handshake deadline. A server keeps its settings in a
 * `TlsSettingsSource`, which `reload` swaps as a whole: new handshakes use the new certificate,
 * live connections keep the context they were made with.
 */
import { Buffer } from 'node:buffer';
import { constants } from 'node:crypto';
import { isIP } from 'node:net';
import tls from 'node:tls';
import { DEFAULT_TLS_HANDSHAKE_TIMEOUT_MS, DEFAULT_TLS_MIN_VERSION } from '../constants.js';
import { InvalidArgumentError } from '../errors.js';
import type {
  PemInput,
  TlsClientOptions,
  TlsCommonOptions,
  TlsCredentials,
  TlsServerOptions,
  TlsVersion,
} from './options.js';

/**
 * OpenSSL options set on every context. No renegotiation: TLS 1.3 has none, and in TLS 1.2 a
 * client-initiated renegotiation costs the server a full handshake per request
 * (CVE-2011-1473), which Node only rate-limits.
 */
const SECURE_OPTIONS = constants.SSL_OP_NO_RENEGOTIATION;

const VERSIONS: readonly TlsVersion[] = ['TLSv1.2', 'TLSv1.3'];

/** What one server-side handshake needs, resolved from `TlsServerOptions`. */
export interface ServerHandshakeSettings {
  readonly secureContext: tls.SecureContext;
  /** Picks the context of the name the client asked for; absent without `sni`. */
  readonly SNICallback:
    | ((
        servername: string,
        done: (error: Error | null, context?: tls.SecureContext) => void,
      ) => void)
    | undefined;
  readonly requestCert: boolean;
  readonly rejectUnauthorized: boolean;
  readonly ALPNProtocols: string[] | undefined;
  /** Milliseconds; 0: no deadline. */
  readonly handshakeTimeout: number;
}

/** What one client-side handshake needs, resolved from `TlsClientOptions`. */
export interface ClientHandshakeSettings {
  readonly connectOptions: tls.ConnectionOptions;
  /** Milliseconds; 0: no deadline. */
  readonly handshakeTimeout: number;
}

/** A server's current TLS settings; `reload` replaces them for the handshakes that follow. */
export class TlsSettingsSource {
  #current: ServerHandshakeSettings;

  /** @throws InvalidArgumentError for bad options, or a certificate or key OpenSSL refuses. */
  constructor(options: TlsServerOptions) {
    this.#current = serverHandshakeSettings(options);
  }

  get current(): ServerHandshakeSettings {
    return this.#current;
  }

  /**
   * Use `options` for every handshake from now on. Checked first: on error nothing changes.
   * @throws InvalidArgumentError as the constructor does.
   */
  reload(options: TlsServerOptions): void {
    this.#current = serverHandshakeSettings(options);
  }
}

/**
 * Resolves a server's options.
 * @throws InvalidArgumentError for bad options, or a certificate or key OpenSSL refuses.
 */
export function serverHandshakeSettings(options: TlsServerOptions): ServerHandshakeSettings {
  if (options === null || typeof options !== 'object') {
    throw new InvalidArgumentError('tls must be an object with cert and key');
  }
  checkCredentials(options, 'tls');
  const common = commonSettings(options);
  const { ca, sni } = options;
  if (ca !== undefined) checkPem(ca, 'tls.ca');
  const secureContext = makeContext({ ...common.context, ...credentials(options), ...pem(ca) });
  let SNICallback: ServerHandshakeSettings['SNICallback'];
  if (sni !== undefined) {
    if (sni === null || typeof sni !== 'object') {
      throw new InvalidArgumentError('tls.sni maps server names to { cert, key }');
    }
    const byName = new Map<string, tls.SecureContext>();
    for (const [name, entry] of Object.entries(sni)) {
      checkCredentials(entry, `tls.sni['${name}']`);
      byName.set(
        name.toLowerCase(),
        makeContext({ ...common.context, ...credentials(entry), ...pem(ca) }),
      );
    }
    SNICallback = (servername, done) => done(null, lookupName(byName, servername));
  }
  return {
    secureContext,
    SNICallback,
    requestCert: flag(options.requestCert, 'tls.requestCert', false),
    rejectUnauthorized: flag(options.rejectUnauthorized, 'tls.rejectUnauthorized', true),
    ALPNProtocols: common.ALPNProtocols,
    handshakeTimeout: common.handshakeTimeout,
  };
}

/**
 * Resolves a client's options for a connection to `host`.
 * @throws InvalidArgumentError for bad options, or a certificate or key OpenSSL refuses.
 */
export function clientHandshakeSettings(
  options: TlsClientOptions,
  host: string | undefined,
): ClientHandshakeSettings {
  if (options === null || typeof options !== 'object') {
    throw new InvalidArgumentError('tls must be an object (or true for the defaults)');
  }
  const common = commonSettings(options);
  const { ca, cert, key, servername } = options;
  if (ca !== undefined) checkPem(ca, 'tls.ca');
  if ((cert === undefined) !== (key === undefined)) {
    throw new InvalidArgumentError('tls: a client certificate needs both cert and key');
  }
  if (cert !== undefined) checkCredentials(options as TlsCredentials, 'tls');
  if (servername !== undefined && (typeof servername !== 'string' || servername === '')) {
    throw new InvalidArgumentError('tls.servername must be a non-empty string');
  }
  const secureContext = makeContext({
    ...common.context,
    ...(cert === undefined ? {} : credentials(options as TlsCredentials)),
    ...pem(ca),
  });
  const name = servername ?? (host !== undefined && isIP(host) === 0 ? host : undefined);
  return {
    connectOptions: {
      secureContext,
      rejectUnauthorized: flag(options.rejectUnauthorized, 'tls.rejectUnauthorized', true),
      // The name the certificate must carry: `servername`, else the host (an IP address is
      // checked against the certificate's IP entries).
      ...((servername ?? host) === undefined ? {} : { host: (servername ?? host)! }),
      ...(name === undefined ? {} : { servername: name }),
      ...(common.ALPNProtocols === undefined ? {} : { ALPNProtocols: common.ALPNProtocols }),
    },
    handshakeTimeout: common.handshakeTimeout,
  };
}

function commonSettings(options: TlsCommonOptions): {
  context: tls.SecureContextOptions;
  ALPNProtocols: string[] | undefined;
  handshakeTimeout: number;
} {
  const minVersion = options.minVersion ?? DEFAULT_TLS_MIN_VERSION;
  const maxVersion = options.maxVersion ?? 'TLSv1.3';
  for (const [name, value] of [
    ['minVersion', minVersion],
    ['maxVersion', maxVersion],
  ] as const) {
    if (!VERSIONS.includes(value)) {
      throw new InvalidArgumentError(
        `tls.${name} must be 'TLSv1.2' or 'TLSv1.3', got ${String(value)}`,
      );
    }
  }
  if (VERSIONS.indexOf(minVersion) > VERSIONS.indexOf(maxVersion)) {
    throw new InvalidArgumentError(`tls.minVersion ${minVersion} is over maxVersion ${maxVersion}`);
  }
  const { ciphers, ALPNProtocols } = options;
  if (ciphers !== undefined && (typeof ciphers !== 'string' || ciphers === '')) {
    throw new InvalidArgumentError('tls.ciphers must be an OpenSSL cipher list');
  }
  if (
    ALPNProtocols !== undefined &&
    (!Array.isArray(ALPNProtocols) ||
      ALPNProtocols.length === 0 ||
      ALPNProtocols.some((p) => typeof p !== 'string' || p.length === 0 || p.length > 255))
  ) {
    throw new InvalidArgumentError('tls.ALPNProtocols must list protocol names of 1-255 bytes');
  }
  const handshakeTimeout = options.handshakeTimeout ?? DEFAULT_TLS_HANDSHAKE_TIMEOUT_MS;
  if (!(Number.isFinite(handshakeTimeout) && handshakeTimeout >= 0)) {
    throw new InvalidArgumentError(
      `tls.handshakeTimeout must be a number of ms >= 0, got ${handshakeTimeout}`,
    );
  }
  return {
    context: {
      minVersion,
      maxVersion,
      secureOptions: SECURE_OPTIONS,
      ...(ciphers === undefined ? {} : { ciphers }),
    },
    ALPNProtocols: ALPNProtocols === undefined ? undefined : [...ALPNProtocols],
    handshakeTimeout,
  };
}

function makeContext(options: tls.SecureContextOptions): tls.SecureContext {
  try {
    return tls.createSecureContext(options);
  } catch (error) {
    // OpenSSL's message names what it could not use (bad PEM, a key not matching its
    // certificate, a wrong passphrase); it never contains key material.
    throw new InvalidArgumentError(
      `tls: OpenSSL refused the settings: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

function checkCredentials(entry: TlsCredentials, where: string): void {
  if (entry === null || typeof entry !== 'object') {
    throw new InvalidArgumentError(`${where} needs cert and key`);
  }
  checkPem(entry.cert, `${where}.cert`);
  checkPem(entry.key, `${where}.key`);
  if (entry.passphrase !== undefined && typeof entry.passphrase !== 'string') {
    throw new InvalidArgumentError(`${where}.passphrase must be a string`);
  }
}

function checkPem(value: PemInput | undefined, where: string): void {
  const list = Array.isArray(value) ? value : [value];
  const ok =
    list.length > 0 &&
    list.every(
      (item) =>
        (typeof item === 'string' && item.length > 0) ||
        (item instanceof Uint8Array && item.length > 0),
    );
  if (!ok) throw new InvalidArgumentError(`${where} must be PEM text or bytes (or a list of them)`);
}

function credentials(entry: TlsCredentials): tls.SecureContextOptions {
  return {
    cert: toPem(entry.cert),
    key: toPem(entry.key),
    ...(entry.passphrase === undefined ? {} : { passphrase: entry.passphrase }),
  };
}

function pem(ca: PemInput | undefined): tls.SecureContextOptions {
  return ca === undefined ? {} : { ca: toPem(ca) };
}

function toPem(value: PemInput): string | Buffer | (string | Buffer)[] {
  const one = (item: string | Uint8Array) =>
    typeof item === 'string' ? item : Buffer.from(item.buffer, item.byteOffset, item.length);
  return Array.isArray(value) ? value.map(one) : one(value as string | Uint8Array);
}

function flag(value: boolean | undefined, where: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new InvalidArgumentError(`${where} must be a boolean`);
  return value;
}

/** The context for `servername`: an exact name, else a `*.` wildcard one label deep. */
function lookupName(
  byName: ReadonlyMap<string, tls.SecureContext>,
  servername: string,
): tls.SecureContext | undefined {
  const name = servername.toLowerCase();
  const exact = byName.get(name);
  if (exact !== undefined) return exact;
  const dot = name.indexOf('.');
  return dot > 0 ? byName.get(`*${name.slice(dot)}`) : undefined;
}
