/**
 * The command line of `aionet bench`: its usage text, and the parser that turns argv into
 * {@link BenchOptions} or throws an `InvalidArgumentError` saying which flag is wrong.
 */
import { Buffer } from 'node:buffer';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { InvalidArgumentError } from '../errors.js';
import { ASSERT_METRICS, parseAssertion } from './assertions.js';
import { ERROR_KINDS } from './error-kinds.js';
import { type Expectation, FRAMINGS, frameMessage, replySpec } from './framing.js';
import { autoSources, FD_HEADROOM, isIPv4, isLoopbackHost, openFileLimit } from './host-limits.js';
import {
  type BenchOptions,
  type BenchTls,
  DEFAULT_CONNECT_RATE,
  DEFAULT_DURATION_S,
  DEFAULT_HOST,
  DEFAULT_MESSAGE,
  DEFAULT_PORT,
  DEFAULT_REPLY,
  DEFAULT_TIMEOUT_S,
  DEFAULT_WARMUP_S,
  MODES,
  type Target,
} from './options.js';

/** Largest message or expected reply, in bytes: far above any request/reply benchmark. */
const MAX_PAYLOAD_BYTES = 1024 * 1024;
/** Longest measured window, in seconds: every run must end by itself, within the hour. */
const MAX_DURATION_S = 3600;
/** Longest warm-up, in seconds. */
const MAX_WARMUP_S = 600;
/** Longest connect or reply timeout, in seconds. */
const MAX_TIMEOUT_S = 600;
/** Most connections in a run: 50 processes of 20,000. */
const MAX_CONNECTIONS = 1_000_000;
/** Most worker processes. */
const MAX_PROCESSES = 64;
/** Most source addresses: `127.0.0.1..127.0.0.254`. */
const MAX_SOURCES = 254;

/** The usage text, printed by `--help` and after a bad flag. */
export const USAGE = `usage: aionet bench [options]

Load generator for a TCP request/reply server on loopback. Every run stops by itself.

target (loopback only):
  --host H              IPv4/IPv6 loopback address or localhost (default ${DEFAULT_HOST})
  --port P              TCP port (default ${DEFAULT_PORT})
  --path SOCK           Unix socket path instead of host and port
  --tls                 speak TLS (full handshakes, no resumption); the server's
                        certificate must verify against --tls-ca or Node's CAs
  --tls-ca FILE         CA certificates (PEM) for the server's certificate
  --tls-insecure        accept any server certificate (self-signed test servers)
  --udp                 UDP instead of TCP (pingpong and rate): each connection is a
                        connected datagram socket, each message one datagram; a
                        reply not back within --timeout counts as reply_timeout (lost)

load:
  --mode M              pingpong | rate | hold | churn (default pingpong)
                          pingpong  closed loop: send, await the full reply, send again
                          rate      open loop at --rate msgs/s in total; latency from the
                                    intended send time (coordinated-omission corrected)
                          hold      open the connections at --connect-rate, verify one round
                                    trip on each, hold them for --duration, close them
                          churn     connect, send, await the reply, close, again
  -c, --connections N   connections (churn: concurrent slots) (default 1)
  -d, --duration S      measured seconds (hold: seconds held) (default ${DEFAULT_DURATION_S})
  -w, --warmup S        seconds before measuring; not in hold (default ${DEFAULT_WARMUP_S})
  --rate R              rate mode: messages per second over all connections (required)
  --connect-rate R      connects started per second and process (default ${DEFAULT_CONNECT_RATE})
  --timeout S           connect and reply timeout (default ${DEFAULT_TIMEOUT_S})
  --no-send             hold mode: only connect, send nothing
  --processes K         worker processes sharing connections and rate (default 1)
  --sources N           spread connections over 127.0.0.1..127.0.0.N (default: as many
                        as the ephemeral ports need; 0 lets the kernel choose)

messages (escapes \\n \\r \\t \\0 \\\\ \\xHH in TEXT):
  --message TEXT        message to send (default "hello\\n")
  --message-file F      message to send, read from a file
  --expect TEXT         expected reply (default "${DEFAULT_REPLY}")
  --expect-bytes N      expected reply length; content not checked
  --framing F           none | line | length (default none)
                          none    raw bytes; one reply per message
                          line    \\n-terminated lines
                          length  4-byte big-endian length prefix

output:
  --json                print one JSON object instead of the table
  -q, --quiet           no live status line
  --assert EXPR         exit 1 unless EXPR holds; repeatable, e.g.
                        --assert 'p99<10ms' --assert 'errors=0' --assert 'msgs_per_s>50k'
                        metrics: ${ASSERT_METRICS.filter((m) => !(ERROR_KINDS as readonly string[]).includes(m)).join(', ')},
                        and the error kinds: ${ERROR_KINDS.join(', ')}
  -h, --help            this text

exit status: 0 done, 1 an --assert failed, 2 bad flags
`;

const FLAGS = {
  mode: { type: 'string' },
  host: { type: 'string' },
  port: { type: 'string' },
  path: { type: 'string' },
  tls: { type: 'boolean' },
  'tls-ca': { type: 'string' },
  'tls-insecure': { type: 'boolean' },
  udp: { type: 'boolean' },
  connections: { type: 'string', short: 'c' },
  duration: { type: 'string', short: 'd' },
  warmup: { type: 'string', short: 'w' },
  rate: { type: 'string' },
  'connect-rate': { type: 'string' },
  timeout: { type: 'string' },
  'no-send': { type: 'boolean' },
  processes: { type: 'string' },
  sources: { type: 'string' },
  message: { type: 'string' },
  'message-file': { type: 'string' },
  expect: { type: 'string' },
  'expect-bytes': { type: 'string' },
  framing: { type: 'string' },
  json: { type: 'boolean' },
  quiet: { type: 'boolean', short: 'q' },
  assert: { type: 'string', multiple: true },
  help: { type: 'boolean', short: 'h' },
} as const;

/** What the command line asks for: a run, or the usage text. */
export type ParsedCommand =
  | { readonly kind: 'run'; readonly options: BenchOptions }
  | { readonly kind: 'help' };

/**
 * Parses the arguments that follow `aionet bench`.
 *
 * @throws InvalidArgumentError naming the first bad flag.
 */
export function parseBenchArgs(argv: readonly string[]): ParsedCommand {
  let values: ReturnType<typeof parse>['values'];
  try {
    values = parse(argv).values;
  } catch (error) {
    throw new InvalidArgumentError(error instanceof Error ? error.message : String(error));
  }
  if (values.help === true) return { kind: 'help' };

  const mode = oneOf('--mode', values.mode ?? 'pingpong', MODES);
  const framing = oneOf('--framing', values.framing ?? 'none', FRAMINGS);
  const target = parseTarget(values);
  if (target.kind === 'udp' && mode !== 'pingpong' && mode !== 'rate') {
    throw new InvalidArgumentError('--udp runs --mode pingpong or rate only');
  }
  const connections = integer('--connections', values.connections, 1, 1, MAX_CONNECTIONS);
  const processes = integer('--processes', values.processes, 1, 1, MAX_PROCESSES);
  if (processes > connections) {
    throw new InvalidArgumentError(`--processes ${processes} exceeds --connections ${connections}`);
  }
  checkOpenFiles(Math.ceil(connections / processes));

  if (mode === 'rate' && values.rate === undefined) {
    throw new InvalidArgumentError('--mode rate needs --rate R (messages per second)');
  }
  if (mode !== 'rate' && values.rate !== undefined) {
    throw new InvalidArgumentError('--rate applies to --mode rate only');
  }
  if (mode !== 'hold' && values['no-send'] === true) {
    throw new InvalidArgumentError('--no-send applies to --mode hold only');
  }

  const message = frameMessage(parseMessage(values), framing);
  const reply = replySpec(parseExpectation(values), framing);
  const sources = parseSources(values.sources, target, connections);
  const assertions = (values.assert ?? []).map((text) => parseAssertion(text, mode));
  const warmupS = number('--warmup', values.warmup, DEFAULT_WARMUP_S, MAX_WARMUP_S, true);

  return {
    kind: 'run',
    options: {
      mode,
      target,
      connections,
      durationMs: number('--duration', values.duration, DEFAULT_DURATION_S, MAX_DURATION_S) * 1000,
      // Hold has no warm-up: its connect phase plays that part.
      warmupMs: mode === 'hold' ? 0 : warmupS * 1000,
      message,
      framing,
      reply,
      rate: mode === 'rate' ? number('--rate', values.rate, 0, 1e7) : 0,
      timeoutMs: number('--timeout', values.timeout, DEFAULT_TIMEOUT_S, MAX_TIMEOUT_S) * 1000,
      connectRate: number('--connect-rate', values['connect-rate'], DEFAULT_CONNECT_RATE, 1e6),
      send: values['no-send'] !== true,
      processes,
      sources,
      json: values.json === true,
      quiet: values.quiet === true,
      assertions,
    },
  };
}

/**
 * Decodes the escapes of a `--message` or `--expect` TEXT: `\n`, `\r`, `\t`, `\0`, `\\` and
 * `\xHH`. Any other backslash stays as it is.
 */
export function unescapeText(text: string): Buffer {
  const bytes: number[] = [];
  const raw = Buffer.from(text, 'utf8');
  for (let i = 0; i < raw.length; i++) {
    const byte = raw[i] ?? 0;
    if (byte !== 0x5c || i + 1 >= raw.length) {
      bytes.push(byte);
      continue;
    }
    const next = String.fromCharCode(raw[i + 1] ?? 0);
    const simple = SIMPLE_ESCAPES[next];
    if (simple !== undefined) {
      bytes.push(simple);
      i++;
    } else if (
      next === 'x' &&
      /^[0-9a-fA-F]{2}$/.test(raw.subarray(i + 2, i + 4).toString('latin1'))
    ) {
      bytes.push(Number.parseInt(raw.subarray(i + 2, i + 4).toString('latin1'), 16));
      i += 3;
    } else {
      bytes.push(byte);
    }
  }
  return Buffer.from(bytes);
}

const SIMPLE_ESCAPES: Readonly<Record<string, number>> = {
  n: 0x0a,
  r: 0x0d,
  t: 0x09,
  '0': 0x00,
  '\\': 0x5c,
};

function parse(argv: readonly string[]) {
  return parseArgs({ args: [...argv], options: FLAGS, strict: true, allowPositionals: false });
}

type Values = ReturnType<typeof parse>['values'];

function parseTarget(values: Values): Target {
  const tls = parseTls(values);
  const secure = tls === undefined ? {} : { tls };
  if (values.udp === true && (tls !== undefined || values.path !== undefined)) {
    throw new InvalidArgumentError('--udp excludes --tls and --path');
  }
  if (values.path !== undefined) {
    if (values.host !== undefined || values.port !== undefined) {
      throw new InvalidArgumentError('--path excludes --host and --port');
    }
    if (values.path === '') throw new InvalidArgumentError('--path must not be empty');
    return { kind: 'unix', path: values.path, ...secure };
  }
  const named = values.host ?? DEFAULT_HOST;
  if (!isLoopbackHost(named)) {
    throw new InvalidArgumentError(`--host ${named}: only loopback addresses are allowed`);
  }
  // `localhost` may resolve to ::1 or 127.0.0.1 depending on the resolver; pin it.
  const host = named === 'localhost' ? '127.0.0.1' : named;
  const port = integer('--port', values.port, DEFAULT_PORT, 1, 65535);
  if (values.udp === true) return { kind: 'udp', host, port };
  return { kind: 'tcp', host, port, ...secure };
}

function parseTls(values: Values): BenchTls | undefined {
  const caFile = values['tls-ca'];
  const insecure = values['tls-insecure'] === true;
  if (values.tls !== true) {
    if (caFile !== undefined || insecure) {
      throw new InvalidArgumentError('--tls-ca and --tls-insecure need --tls');
    }
    return undefined;
  }
  if (caFile !== undefined && insecure) {
    throw new InvalidArgumentError('give either --tls-ca or --tls-insecure, not both');
  }
  if (caFile === undefined) return { insecure };
  try {
    return { insecure, ca: readFileSync(caFile, 'utf8') };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'EUNKNOWN';
    throw new InvalidArgumentError(`--tls-ca ${caFile}: cannot read it (${code})`);
  }
}

function parseMessage(values: Values): Buffer {
  if (values.message !== undefined && values['message-file'] !== undefined) {
    throw new InvalidArgumentError('--message and --message-file exclude each other');
  }
  let message: Buffer;
  if (values['message-file'] !== undefined) {
    try {
      message = readFileSync(values['message-file']);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new InvalidArgumentError(`--message-file: ${reason}`);
    }
  } else {
    message = unescapeText(values.message ?? DEFAULT_MESSAGE);
  }
  if (message.length === 0) throw new InvalidArgumentError('the message must not be empty');
  if (message.length > MAX_PAYLOAD_BYTES) {
    throw new InvalidArgumentError(`the message exceeds ${MAX_PAYLOAD_BYTES} bytes`);
  }
  return message;
}

function parseExpectation(values: Values): Expectation {
  if (values.expect !== undefined && values['expect-bytes'] !== undefined) {
    throw new InvalidArgumentError('--expect and --expect-bytes exclude each other');
  }
  if (values['expect-bytes'] !== undefined) {
    return { bytes: integer('--expect-bytes', values['expect-bytes'], 0, 1, MAX_PAYLOAD_BYTES) };
  }
  const text = unescapeText(values.expect ?? DEFAULT_REPLY);
  if (text.length === 0) throw new InvalidArgumentError('--expect must not be empty');
  if (text.length > MAX_PAYLOAD_BYTES) {
    throw new InvalidArgumentError(`--expect exceeds ${MAX_PAYLOAD_BYTES} bytes`);
  }
  return { text };
}

function parseSources(raw: string | undefined, target: Target, connections: number): number {
  const spreadable = target.kind === 'tcp' && isIPv4(target.host);
  if (raw === undefined) return spreadable ? autoSources(connections) : 0;
  if (!spreadable && raw !== '0') {
    throw new InvalidArgumentError('--sources needs an IPv4 --host');
  }
  return integer('--sources', raw, 0, 0, MAX_SOURCES);
}

function checkOpenFiles(perProcess: number): void {
  const limit = openFileLimit();
  if (perProcess + FD_HEADROOM > limit) {
    throw new InvalidArgumentError(
      `${perProcess} connections per process exceed the open-file limit of ${limit} ` +
        `(${FD_HEADROOM} kept for the process itself): raise --processes`,
    );
  }
}

function oneOf<T extends string>(flag: string, value: string, choices: readonly T[]): T {
  if ((choices as readonly string[]).includes(value)) return value as T;
  throw new InvalidArgumentError(`${flag} ${value}: expected one of ${choices.join(', ')}`);
}

/** A finite number in `(0, max]`, or in `[0, max]` when `zeroAllowed`. */
function number(
  flag: string,
  raw: string | undefined,
  fallback: number,
  max: number,
  zeroAllowed = false,
): number {
  if (raw === undefined) return fallback;
  const value = raw.trim() === '' ? Number.NaN : Number(raw);
  const low = zeroAllowed ? value >= 0 : value > 0;
  if (!Number.isFinite(value) || !low || value > max) {
    const range = zeroAllowed ? `0..${max}` : `a number > 0 and <= ${max}`;
    throw new InvalidArgumentError(`${flag} ${raw}: expected ${range}`);
  }
  return value;
}

function integer(
  flag: string,
  raw: string | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  if (raw === undefined) return fallback;
  const value = /^\s*\d+\s*$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new InvalidArgumentError(`${flag} ${raw}: expected an integer in ${min}..${max}`);
  }
  return value;
}
