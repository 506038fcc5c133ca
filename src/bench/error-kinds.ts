/**
 * The kinds of failure the load generator counts, and how a system error maps onto one.
 *
 * The set is small and stable: reports, `--json` output and `--assert` expressions name these
 * kinds, so a new kind is a breaking change of the report format.
 */

/** Every kind of error the generator counts, in report order. */
export const ERROR_KINDS = [
  'refused',
  'reset',
  'connect_timeout',
  'reply_timeout',
  'wrong_reply',
  'closed_early',
  'ports_exhausted',
  'other',
] as const;

/**
 * One kind of error:
 * - `refused`: nobody listens at the target (ECONNREFUSED, or ENOENT for a socket path).
 * - `reset`: the peer reset the connection (ECONNRESET) or it broke under a write (EPIPE).
 * - `connect_timeout`: a connect did not complete within `--timeout`.
 * - `reply_timeout`: the full expected reply did not arrive within `--timeout` of the send.
 * - `wrong_reply`: the reply's bytes or length differ from the expected reply.
 * - `closed_early`: the peer closed the connection (FIN) while the generator still used it.
 * - `ports_exhausted`: no local port or address was left for a new connection
 *   (EADDRNOTAVAIL, EADDRINUSE): spread over more source addresses or processes.
 * - `other`: anything else (EMFILE, EHOSTUNREACH, …).
 */
export type ErrorKind = (typeof ERROR_KINDS)[number];

/** Error counts by kind; every kind is always present. */
export type ErrorCounts = Record<ErrorKind, number>;

/** Counts of zero for every kind. */
export function emptyErrorCounts(): ErrorCounts {
  return {
    refused: 0,
    reset: 0,
    connect_timeout: 0,
    reply_timeout: 0,
    wrong_reply: 0,
    closed_early: 0,
    ports_exhausted: 0,
    other: 0,
  };
}

/** Adds `from` into `into`, kind by kind. */
export function addErrorCounts(into: ErrorCounts, from: ErrorCounts): void {
  for (const kind of ERROR_KINDS) into[kind] += from[kind];
}

/** The sum over all kinds. */
export function totalErrors(counts: ErrorCounts): number {
  let total = 0;
  for (const kind of ERROR_KINDS) total += counts[kind];
  return total;
}

/** Whether `name` is one of {@link ERROR_KINDS}. */
export function isErrorKind(name: string): name is ErrorKind {
  return (ERROR_KINDS as readonly string[]).includes(name);
}

/**
 * The kind of a socket error, from its system code.
 *
 * @param connecting whether the socket was still connecting: a reset or a timeout then is a
 *   failed connect, not a broken conversation.
 */
export function classifySocketError(error: unknown, connecting: boolean): ErrorKind {
  const code = errorCode(error);
  switch (code) {
    case 'ECONNREFUSED':
    case 'ENOENT': // a Unix socket path nobody listens on
      return 'refused';
    case 'ECONNRESET':
    case 'EPIPE':
      return connecting ? 'refused' : 'reset';
    case 'ETIMEDOUT':
      return connecting ? 'connect_timeout' : 'reset';
    case 'EADDRNOTAVAIL':
    case 'EADDRINUSE':
      return 'ports_exhausted';
    default:
      return 'other';
  }
}

function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  const code = error.code;
  return typeof code === 'string' ? code : undefined;
}
