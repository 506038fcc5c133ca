/**
 * Command-line plumbing shared by the commands: a typed usage error (exit 2) and number parsing
 * with clear messages.
 */

/** Bad flags: the command prints the message and its usage, and exits with status 2. */
export class UsageError extends Error {
  override get name(): string {
    return 'UsageError';
  }
}

/** Exit statuses every command uses. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
/** A second Ctrl-C: shutdown was cut short (128 + SIGINT, the shell's convention). */
export const EXIT_FORCED = 130;

/** Parses a TCP port; `allowZero` for servers (0 picks a free port). */
export function parsePort(text: string | undefined, fallback: number, allowZero = true): number {
  if (text === undefined) return fallback;
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535 || (!allowZero && port === 0)) {
    throw new UsageError(
      `--port must be a whole number from ${allowZero ? 0 : 1} to 65535, got '${text}'`,
    );
  }
  return port;
}

/** Parses a whole number >= 1 (a count or a size in bytes). */
export function parseCount(flag: string, text: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < 1) {
    throw new UsageError(`${flag} must be a whole number >= 1, got '${text}'`);
  }
  return value;
}

/** Parses a non-negative number of seconds (fractions allowed). */
export function parseSeconds(flag: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value < 0) {
    throw new UsageError(`${flag} must be a number of seconds >= 0, got '${text}'`);
  }
  return value;
}

/** Turns `util.parseArgs` failures into usage errors with their message. */
export function asUsageError(error: unknown): never {
  if (error instanceof UsageError) throw error;
  if (
    error instanceof TypeError &&
    'code' in error &&
    String(error.code).startsWith('ERR_PARSE_ARGS')
  ) {
    throw new UsageError(error.message);
  }
  throw error;
}
