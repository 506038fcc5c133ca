/**
 * The operations flags of `aionet serve` — limits, deadlines, shutdown, logs and metrics — their
 * help text, and their parsing into server options and settings. Bad values are usage errors
 * (exit 2) with the flag's name in the message.
 */
import { DEFAULT_DRAIN_TIMEOUT_MS, DEFAULT_MAX_WRITE_BUFFER } from '../constants.js';
import { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from './logger.js';
import { parseCount, parseSeconds, UsageError } from './usage.js';

/** The flags, for `util.parseArgs`. */
export const OPERATIONS_OPTIONS = {
  'max-connections': { type: 'string' },
  'reject-message': { type: 'string' },
  'idle-timeout': { type: 'string' },
  'max-write-buffer': { type: 'string' },
  'write-stall-timeout': { type: 'string' },
  'drain-timeout': { type: 'string' },
  'log-format': { type: 'string' },
  'log-level': { type: 'string' },
  'metrics-port': { type: 'string' },
  'metrics-host': { type: 'string' },
} as const;

/** What `util.parseArgs` gives back for them. */
export type OperationsValues = {
  readonly [K in keyof typeof OPERATIONS_OPTIONS]?: string;
};

/** Their part of `aionet serve --help`. */
export const OPERATIONS_USAGE = `Limits and deadlines:
  --max-connections N       connections served at once; more are accepted and
                            closed at once (default: unlimited)
  --reject-message TEXT     sent to a connection turned away, before the close
                            (needs --max-connections; default: nothing)
  --idle-timeout SECONDS    close a connection after this long without a byte
                            either way; 0: never (default: 0)
  --max-write-buffer BYTES  drop a connection whose unsent replies exceed this
                            (default: ${DEFAULT_MAX_WRITE_BUFFER})
  --write-stall-timeout SECONDS
                            reset a connection whose peer has not read its
                            replies for this long; 0: never (default: 0)
  --drain-timeout SECONDS   on SIGINT/SIGTERM, how long busy connections may
                            take to finish before they are reset
                            (default: ${DEFAULT_DRAIN_TIMEOUT_MS / 1000})

Logs and metrics:
  --log-format FORMAT       text: the chapter's lines; json: one JSON object per
                            line (pino) with an "event" field (default: text)
  --log-level LEVEL         ${LOG_LEVELS.join('|')} (default: info)
  --metrics-port PORT       serve GET /metrics (Prometheus) and GET /healthz on
                            this port; 0 for any free one (default: off)
  --metrics-host HOST       address of the metrics endpoint (default: 127.0.0.1)`;

/** The flags, resolved. */
export interface OperationsSettings {
  /** Options for `createServer`: only those given, so the library's defaults apply. */
  readonly serverOptions: {
    readonly maxConnections?: number;
    readonly rejectMessage?: string;
    readonly idleTimeout?: number;
    readonly maxWriteBuffer?: number;
    readonly writeStallTimeout?: number;
  };
  /** Milliseconds. */
  readonly drainTimeout: number;
  readonly logFormat: LogFormat;
  readonly logLevel: LogLevel;
  readonly metrics: { readonly port: number; readonly host: string } | undefined;
}

/** Longest deadline in milliseconds: Node's timers take at most a signed 32-bit number. */
const MAX_DEADLINE_MS = 2 ** 31 - 1;

/** @throws UsageError for a bad value or a flag without the one it needs. */
export function parseOperations(values: OperationsValues): OperationsSettings {
  const maxConnections = optional(values['max-connections'], (text) =>
    parseCount('--max-connections', text),
  );
  const rejectMessage = values['reject-message'];
  if (rejectMessage !== undefined && maxConnections === undefined) {
    throw new UsageError('--reject-message needs --max-connections');
  }
  const idleTimeout = optional(values['idle-timeout'], (text) => deadline('--idle-timeout', text));
  const writeStallTimeout = optional(values['write-stall-timeout'], (text) =>
    deadline('--write-stall-timeout', text),
  );
  const maxWriteBuffer = optional(values['max-write-buffer'], (text) =>
    parseCount('--max-write-buffer', text),
  );
  const drainTimeout =
    values['drain-timeout'] === undefined
      ? DEFAULT_DRAIN_TIMEOUT_MS
      : deadline('--drain-timeout', values['drain-timeout']);
  const logFormat = oneOf('--log-format', values['log-format'] ?? 'text', LOG_FORMATS);
  const logLevel = oneOf('--log-level', values['log-level'] ?? 'info', LOG_LEVELS);
  const metricsHost = values['metrics-host'];
  const metricsPortText = values['metrics-port'];
  if (metricsHost !== undefined && metricsPortText === undefined) {
    throw new UsageError('--metrics-host needs --metrics-port');
  }
  if (metricsHost === '') throw new UsageError('--metrics-host must not be empty');
  return {
    serverOptions: {
      ...(maxConnections === undefined ? {} : { maxConnections }),
      ...(rejectMessage === undefined ? {} : { rejectMessage }),
      ...(idleTimeout === undefined ? {} : { idleTimeout }),
      ...(maxWriteBuffer === undefined ? {} : { maxWriteBuffer }),
      ...(writeStallTimeout === undefined ? {} : { writeStallTimeout }),
    },
    drainTimeout,
    logFormat,
    logLevel,
    metrics:
      metricsPortText === undefined
        ? undefined
        : { port: metricsPort(metricsPortText), host: metricsHost ?? '127.0.0.1' },
  };
}

function optional<T>(text: string | undefined, parse: (text: string) => T): T | undefined {
  return text === undefined ? undefined : parse(text);
}

/** Seconds (fractions allowed) to whole milliseconds; a positive value never rounds to "off". */
function deadline(flag: string, text: string): number {
  const ms = Math.ceil(parseSeconds(flag, text, 0) * 1000);
  if (ms > MAX_DEADLINE_MS) {
    throw new UsageError(`${flag} must be at most ${Math.floor(MAX_DEADLINE_MS / 1000)} seconds`);
  }
  return ms;
}

function oneOf<T extends string>(flag: string, text: string, choices: readonly T[]): T {
  if (!(choices as readonly string[]).includes(text)) {
    throw new UsageError(`${flag} must be ${choices.join(', ')}; got '${text}'`);
  }
  return text as T;
}

function metricsPort(text: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535) {
    throw new UsageError(`--metrics-port must be a whole number from 0 to 65535, got '${text}'`);
  }
  return port;
}
