/**
 * The log of `aionet serve`: every event it reports, in one of two formats.
 *
 * - `text` (the default): the chapter's lines exactly as the book prints them
 *   (`Got a new connection`, `Data received`) and the startup and shutdown lines on stdout;
 *   problems (connection errors, turned-away connections, signals) on stderr.
 * - `json`: pino's format, one object per line on stdout, each with an `event` field.
 *
 * Levels filter both formats alike. Events carry addresses, codes and counts, never payload
 * bytes: nothing here is handed a read. The per-read line is the only event on the hot path,
 * and when it is off (`--quiet`, or a level above info) the protocol gets no sink at all, so it
 * costs nothing (see docs/operations.md for the measurement).
 */
import { createRequire } from 'node:module';
import type { Logger, pino as Pino } from 'pino';
import { formatAddress } from '../transport.js';
import type { LineSink } from './chapter-protocol.js';
import { type EffectiveLimits, formatLimits, limitsFields } from './limits-report.js';

/** Output formats. */
export const LOG_FORMATS = ['text', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** Levels, from the most verbose; `silent` logs nothing. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
type Level = Exclude<LogLevel, 'silent'>;

/** pino's numeric levels, used by the text format too. */
const LEVEL_VALUES: Readonly<Record<LogLevel, number>> = {
  trace: 10,
  debug: 20,
  info: 30,
  warn: 40,
  error: 50,
  fatal: 60,
  silent: Number.POSITIVE_INFINITY,
};

/** The `event` field of every log line. */
export type LogEvent =
  | 'startup'
  | 'limits_warning'
  | 'startup_error'
  | 'connection'
  | 'data'
  | 'connection_error'
  | 'connection_closed'
  | 'limit_reject'
  | 'accept_error'
  | 'shutdown'
  | 'shutdown_complete'
  | 'shutdown_forced';

/** Events that go to stdout in the text format; the others go to stderr. */
const STDOUT_EVENTS: ReadonlySet<LogEvent> = new Set([
  'startup',
  'connection',
  'data',
  'connection_closed',
  'shutdown_complete',
]);

/** How the log is set up. */
export interface LogSettings {
  /** @default 'text' */
  readonly format?: LogFormat;
  /** @default 'info' */
  readonly level?: LogLevel;
  /** Drop the per-connection and per-read events. @default false */
  readonly quiet?: boolean;
}

/** What the startup event reports. */
export interface StartupReport {
  readonly addresses: readonly string[];
  /** The backend in use: `native` or `net`. */
  readonly transport: string;
  readonly limits: EffectiveLimits;
  /** Where metrics are served, if they are. */
  readonly metricsUrl?: string | undefined;
}

/** A connection that failed, as logged: where, which code, what happened. */
export interface ConnectionFault {
  /** The peer's address (`127.0.0.1:50000`), or `unknown`. */
  readonly peer: string;
  /** The stable code (`ERR_AIONET_*`) or a system one. */
  readonly code: string;
  /** The system error code behind it (`ECONNRESET`), when there is one. */
  readonly errno?: string | undefined;
  readonly message: string;
}

/** The log of one `aionet serve` process. */
export class CliLogger {
  readonly #threshold: number;
  readonly #quiet: boolean;
  /** Set in the json format only. */
  readonly #pino: Logger | undefined;

  constructor(settings: LogSettings = {}) {
    const level = settings.level ?? 'info';
    this.#threshold = LEVEL_VALUES[level];
    this.#quiet = settings.quiet ?? false;
    if ((settings.format ?? 'text') === 'json') {
      // Synchronous writes: lines stay in order with anything else on stdout, and none is lost
      // when the process exits right after a shutdown.
      // Loaded only for this format: it takes ~50 ms, which the text format need not pay.
      const pino = createRequire(import.meta.url)('pino') as typeof Pino;
      this.#pino = pino({ level }, pino.destination({ dest: 1, sync: true }));
    }
  }

  /** Whether events of `level` are logged. */
  enabled(level: Level): boolean {
    return LEVEL_VALUES[level] >= this.#threshold;
  }

  /** Whether per-connection events (connection, data, connection_closed) are logged at `level`. */
  perConnection(level: Level): boolean {
    return !this.#quiet && this.enabled(level);
  }

  /**
   * Where the chapter's protocol prints `Got a new connection` and `Data received`; `undefined`
   * when those events are off, so that the protocol skips them without a call.
   */
  chapterSink(): LineSink {
    if (!this.perConnection('info')) return undefined;
    const logger = this.#pino;
    if (logger === undefined) return (line) => process.stdout.write(`${line}\n`);
    // Children carry their `event` pre-serialised: one field less to build per read.
    const connection = logger.child({ event: 'connection' });
    const data = logger.child({ event: 'data' });
    return (line, transport) => {
      if (line === 'Data received') data.info(line);
      // The peer as the protocol sees it: behind a PROXY balancer, the real client.
      else if (transport !== undefined) {
        connection.info({ peer: formatAddress(transport.getExtraInfo('peername')) }, line);
      } else connection.info(line);
    };
  }

  startup(report: StartupReport): void {
    const serving = `Serving on ${report.addresses.join(', ')} (${report.transport} transport)`;
    const lines = [serving, `Limits: ${formatLimits(report.limits)}`];
    if (report.metricsUrl !== undefined) lines.push(`Metrics on ${report.metricsUrl}`);
    this.#log('info', 'startup', lines, serving, {
      addresses: report.addresses,
      transport: report.transport,
      limits: limitsFields(report.limits),
      ...(report.metricsUrl === undefined ? {} : { metrics: report.metricsUrl }),
    });
  }

  limitsWarning(message: string): void {
    this.#log('warn', 'limits_warning', [`warning: ${message}`], message, {});
  }

  /** The server could not start: printed as the bare message in the text format. */
  startupError(code: string, message: string): void {
    this.#log('fatal', 'startup_error', [message], message, { code });
  }

  /**
   * A connection failed. Idle timeouts are the server's own policy (info); a failed callback is
   * a bug in the server's code (error); anything the peer or the network did is a warning.
   */
  connectionError(fault: ConnectionFault): void {
    const level = faultLevel(fault.code);
    const text = `connection error (peer ${fault.peer}): ${fault.code}: ${fault.message}`;
    this.#log(level, 'connection_error', [text], fault.message, {
      peer: fault.peer,
      code: fault.code,
      ...(fault.errno === undefined ? {} : { errno: fault.errno }),
    });
  }

  /** A connection ended cleanly (debug; a per-connection event). */
  connectionClosed(peer: string): void {
    if (!this.perConnection('debug')) return;
    this.#log('debug', 'connection_closed', [`Connection closed (peer ${peer})`], 'closed', {
      peer,
    });
  }

  /** Connections were turned away by `--max-connections` (at most one report a second). */
  limitReject(limit: number, rejected: number, message: string): void {
    this.#log('warn', 'limit_reject', [`warning: ${message}`], message, {
      code: 'ERR_AIONET_CONNECTION_LIMIT',
      limit,
      rejected,
    });
  }

  /** A failure of the server itself (accept…), not of one connection. */
  acceptError(operation: string, code: string, message: string): void {
    this.#log('error', 'accept_error', [`error: ${operation}: ${message}`], message, {
      operation,
      code,
    });
  }

  shutdown(signal: string, drainTimeoutMs: number, connections: number): void {
    const text =
      `${signal}: shutting down; draining ${connections} connection(s) ` +
      `for up to ${drainTimeoutMs / 1000}s`;
    this.#log('info', 'shutdown', [text], 'shutting down', {
      signal,
      connections,
      drainTimeoutSeconds: drainTimeoutMs / 1000,
    });
  }

  shutdownComplete(drained: number, aborted: number, durationMs: number): void {
    const text = `Shut down: ${drained} drained, ${aborted} aborted`;
    this.#log('info', 'shutdown_complete', [text], text, { drained, aborted, durationMs });
  }

  shutdownForced(signal: string, aborted: number): void {
    const text = `${signal} again: aborting ${aborted} connection(s)`;
    this.#log('warn', 'shutdown_forced', [text], 'aborting', { signal, aborted });
  }

  #log(
    level: Level,
    event: LogEvent,
    textLines: readonly string[],
    message: string,
    fields: Record<string, unknown>,
  ): void {
    if (!this.enabled(level)) return;
    const logger = this.#pino;
    if (logger !== undefined) {
      logger[level]({ event, ...fields }, message);
      return;
    }
    const stream = STDOUT_EVENTS.has(event) ? process.stdout : process.stderr;
    stream.write(`${textLines.join('\n')}\n`);
  }
}

function faultLevel(code: string): Level {
  if (code === 'ERR_AIONET_IDLE_TIMEOUT') return 'info';
  if (code === 'ERR_AIONET_CALLBACK_FAILED' || code === 'ERR_AIONET_FACTORY_FAILED') {
    return 'error';
  }
  return 'warn';
}
