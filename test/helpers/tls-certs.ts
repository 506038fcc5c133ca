/**
 * Test-only certificates, made at test time with the openssl command into a temporary folder
 * (no key is ever committed): a CA; a server certificate for localhost, 127.0.0.1 and ::1; a
 * second server certificate for `other.test` (SNI, reload); a client certificate from the CA;
 * and a client certificate from an unrelated CA. EC P-256 keys: fast to make.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestPki {
  readonly dir: string;
  readonly caCert: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly otherCert: string;
  readonly otherKey: string;
  readonly clientCert: string;
  readonly clientKey: string;
  readonly strangerCert: string;
  readonly strangerKey: string;
  /** File paths of the same, for the CLI and openssl. */
  readonly files: Record<
    | 'ca'
    | 'serverCert'
    | 'serverKey'
    | 'otherCert'
    | 'otherKey'
    | 'clientCert'
    | 'clientKey'
    | 'strangerCert'
    | 'strangerKey',
    string
  >;
  remove(): void;
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** `req` flags for a new, unencrypted ECDSA P-256 key. */
const NEW_P256_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

function selfSigned(dir: string, name: string, subject: string): void {
  openssl(dir, [
    'req',
    '-x509',
    ...NEW_P256_KEY,
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.pem`,
    '-days',
    '2',
    '-subj',
    subject,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=keyCertSign,cRLSign',
  ]);
}

function signed(dir: string, name: string, ca: string, subject: string, ext: string): void {
  openssl(dir, [
    'req',
    '-new',
    ...NEW_P256_KEY,
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.csr`,
    '-subj',
    subject,
  ]);
  writeFileSync(join(dir, `${name}.ext`), ext);
  openssl(dir, [
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    `${ca}.pem`,
    '-CAkey',
    `${ca}.key`,
    '-CAcreateserial',
    '-out',
    `${name}.pem`,
    '-days',
    '2',
    '-extfile',
    `${name}.ext`,
  ]);
}

/** Makes a fresh set of certificates; call `remove()` when done. */
export function makeTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'aionet-pki-'));
  selfSigned(dir, 'ca', '/CN=aionet test CA');
  selfSigned(dir, 'stranger-ca', '/CN=someone else');
  signed(
    dir,
    'server',
    'ca',
    '/CN=localhost',
    'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\nextendedKeyUsage=serverAuth\n',
  );
  signed(
    dir,
    'other',
    'ca',
    '/CN=other.test',
    'subjectAltName=DNS:other.test\nextendedKeyUsage=serverAuth\n',
  );
  signed(dir, 'client', 'ca', '/CN=alice', 'extendedKeyUsage=clientAuth\n');
  signed(dir, 'stranger', 'stranger-ca', '/CN=mallory', 'extendedKeyUsage=clientAuth\n');
  const file = (name: string) => join(dir, name);
  const read = (name: string) => readFileSync(file(name), 'utf8');
  const files = {
    ca: file('ca.pem'),
    serverCert: file('server.pem'),
    serverKey: file('server.key'),
    otherCert: file('other.pem'),
    otherKey: file('other.key'),
    clientCert: file('client.pem'),
    clientKey: file('client.key'),
    strangerCert: file('stranger.pem'),
    strangerKey: file('stranger.key'),
  };
  return {
    dir,
    caCert: read('ca.pem'),
    serverCert: read('server.pem'),
    serverKey: read('server.key'),
    otherCert: read('other.pem'),
    otherKey: read('other.key'),
    clientCert: read('client.pem'),
    clientKey: read('client.key'),
    strangerCert: read('stranger.pem'),
    strangerKey: read('stranger.key'),
    files,
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
