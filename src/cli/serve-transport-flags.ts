/**
 * The flags of `aionet serve` that shape the listening socket and what every connection goes
 * through before the chapter's protocol: TLS (certificate files, reloaded on SIGHUP), the PROXY
 * protocol, the Unix socket's permissions, and UDP. Their help text, their parsing into server
 * options, and the SIGHUP reload. Bad combinations are usage errors (exit 2); files that cannot
 * be read are startup errors (exit 1).
 */
import { readFileSync } from 'node:fs';
import { InvalidArgumentError } from '../errors.js';
import type { ProxyProtocolOptions } from '../proxy/server-options.js';
import type { Server } from '../server.js';
import type { TlsServerOptions } from '../tls/options.js';
import { parseSeconds, UsageError } from './usage.js';

/** The flags, for `util.parseArgs`. */
export const SERVE_TRANSPORT_OPTIONS = {
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'tls-ca': { type: 'string' },
  'tls-require-client-cert': { type: 'boolean' },
  'tls-handshake-timeout': { type: 'string' },
  'proxy-protocol': { type: 'boolean' },
  'proxy-trusted': { type: 'string', multiple: true },
  'proxy-optional': { type: 'boolean' },
  'proxy-timeout': { type: 'string' },
  'path-mode': { type: 'string' },
  udp: { type: 'boolean' },
} as const;

/** What `util.parseArgs` gives back for them. */
export interface ServeTransportValues {
  readonly 'tls-cert'?: string;
  readonly 'tls-key'?: string;
  readonly 'tls-ca'?: string;
  readonly 'tls-require-client-cert'?: boolean;
  readonly 'tls-handshake-timeout'?: string;
  readonly 'proxy-protocol'?: boolean;
  readonly 'proxy-trusted'?: string[];
  readonly 'proxy-optional'?: boolean;
  readonly 'proxy-timeout'?: string;
  readonly 'path-mode'?: string;
  readonly udp?: boolean;
}

/** Their part of `aionet serve --help`. */
export const SERVE_TRANSPORT_USAGE = `TLS, PROXY protocol, Unix sockets, UDP:
  --tls-cert FILE           serve TLS with this certificate chain (PEM); needs
                            --tls-key. SIGHUP re-reads the files: new handshakes
                            use them, live connections keep theirs
  --tls-key FILE            the certificate's private key (PEM)
  --tls-ca FILE             CA certificates client certificates must chain to
  --tls-require-client-cert close clients without a certificate from --tls-ca
  --tls-handshake-timeout SECONDS
                            close a client whose handshake takes longer
                            (default: 10)
  --proxy-protocol          every connection starts with a PROXY protocol header
                            (v1 or v2) from a --proxy-trusted address; the
                            client's address is then the header's
  --proxy-trusted CIDR      a trusted proxy's network or address; repeatable
  --proxy-optional          also serve connections without a header (their real
                            address); a header from an untrusted source is
                            still refused
  --proxy-timeout SECONDS   close a connection whose header is not complete by
                            then (default: 3)
  --path-mode MODE          permissions of the --path socket file, in octal
                            (e.g. 0660)
  --udp                     serve UDP datagrams instead of TCP: answer each with
                            the reply`;

/** The flags, checked. Files are read later, by `readTls`, so SIGHUP can read them again. */
export interface ServeTransportSettings {
  readonly tlsFiles?: { readonly cert: string; readonly key: string; readonly ca?: string };
  readonly tlsRequireClientCert: boolean;
  /** Milliseconds. */
  readonly tlsHandshakeTimeout?: number;
  readonly proxyProtocol?: ProxyProtocolOptions;
  readonly pathMode?: number;
  readonly udp: boolean;
}

/**
 * Checks the flags and how they combine.
 * @throws UsageError naming the flag.
 */
export function parseServeTransport(
  values: ServeTransportValues,
  context: { readonly path: boolean },
): ServeTransportSettings {
  const cert = values['tls-cert'];
  const key = values['tls-key'];
  const ca = values['tls-ca'];
  const requireClientCert = values['tls-require-client-cert'] === true;
  const handshake = values['tls-handshake-timeout'];
  if ((cert === undefined) !== (key === undefined)) {
    throw new UsageError('--tls-cert and --tls-key go together');
  }
  if (cert === undefined && (ca !== undefined || requireClientCert || handshake !== undefined)) {
    throw new UsageError(
      '--tls-ca, --tls-require-client-cert and --tls-handshake-timeout need --tls-cert',
    );
  }
  if (requireClientCert && ca === undefined) {
    throw new UsageError('--tls-require-client-cert needs --tls-ca to check certificates with');
  }
  const trusted = values['proxy-trusted'];
  const proxy = values['proxy-protocol'] === true;
  if (!proxy && (trusted !== undefined || values['proxy-optional'] === true)) {
    throw new UsageError('--proxy-trusted and --proxy-optional need --proxy-protocol');
  }
  if (!proxy && values['proxy-timeout'] !== undefined) {
    throw new UsageError('--proxy-timeout needs --proxy-protocol');
  }
  if (proxy && trusted === undefined) {
    throw new UsageError(
      '--proxy-protocol needs --proxy-trusted CIDR (the proxies allowed to send headers)',
    );
  }
  const pathModeText = values['path-mode'];
  if (pathModeText !== undefined && !context.path) {
    throw new UsageError('--path-mode needs --path');
  }
  if (pathModeText !== undefined && !/^0?[0-7]{3}$/.test(pathModeText)) {
    throw new UsageError(
      `--path-mode must be octal permission bits like 0660, got '${pathModeText}'`,
    );
  }
  const udp = values.udp === true;
  if (udp && (cert !== undefined || proxy || context.path)) {
    throw new UsageError('--udp does not go with --tls-*, --proxy-* or --path');
  }
  const proxyTimeout = values['proxy-timeout'];
  return {
    ...(cert === undefined || key === undefined
      ? {}
      : { tlsFiles: { cert, key, ...(ca === undefined ? {} : { ca }) } }),
    tlsRequireClientCert: requireClientCert,
    ...(handshake === undefined
      ? {}
      : {
          tlsHandshakeTimeout: parseSeconds('--tls-handshake-timeout', handshake, 10) * 1000,
        }),
    ...(proxy && trusted !== undefined
      ? {
          proxyProtocol: {
            trusted,
            required: values['proxy-optional'] !== true,
            ...(proxyTimeout === undefined
              ? {}
              : { timeout: positiveSeconds('--proxy-timeout', proxyTimeout) * 1000 }),
          },
        }
      : {}),
    ...(pathModeText === undefined ? {} : { pathMode: Number.parseInt(pathModeText, 8) }),
    udp,
  };
}

/**
 * The TLS options the files say now.
 * @throws InvalidArgumentError naming a file that cannot be read.
 */
export function readTls(settings: ServeTransportSettings): TlsServerOptions | undefined {
  const files = settings.tlsFiles;
  if (files === undefined) return undefined;
  return {
    cert: readPem('--tls-cert', files.cert),
    key: readPem('--tls-key', files.key),
    ...(files.ca === undefined ? {} : { ca: readPem('--tls-ca', files.ca) }),
    ...(settings.tlsRequireClientCert ? { requestCert: true } : {}),
    ...(settings.tlsHandshakeTimeout === undefined
      ? {}
      : { handshakeTimeout: settings.tlsHandshakeTimeout }),
  };
}

/**
 * On SIGHUP, re-reads the TLS files and hands them to `server.reloadTls`; a file that cannot be
 * read or a key that does not fit keeps the old settings. Returns the function that stops
 * listening. Nothing is installed without TLS (SIGHUP keeps its default).
 */
export function reloadTlsOnSighup(
  server: Server,
  settings: ServeTransportSettings,
  report: (error: Error | undefined) => void,
): () => void {
  if (settings.tlsFiles === undefined) return () => {};
  const onHangup = () => {
    try {
      server.reloadTls(readTls(settings)!);
      report(undefined);
    } catch (error) {
      report(error as Error);
    }
  };
  process.on('SIGHUP', onHangup);
  return () => process.removeListener('SIGHUP', onHangup);
}

function readPem(flag: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'EUNKNOWN';
    throw new InvalidArgumentError(`${flag} ${file}: cannot read it (${code})`);
  }
}

function positiveSeconds(flag: string, text: string): number {
  const value = parseSeconds(flag, text, 0);
  if (value <= 0) throw new UsageError(`${flag} must be a number of seconds > 0, got '${text}'`);
  return value;
}
