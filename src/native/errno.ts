/**
 * System error numbers from the engine (`-errno`) as names and as the catalogue's errors, the
 * same ones the `net` backend raises for the same faults.
 */
import { constants } from 'node:os';
import { ConnectionResetError, SocketError } from '../errors.js';

const NAMES = new Map<number, string>(
  Object.entries(constants.errno).map(([name, value]) => [value, name]),
);

/** `EAGAIN` as the engine returns it. */
export const EAGAIN = -(constants.errno.EAGAIN ?? 11);

/** `ECONNREFUSED`, `EADDRINUSE`… for a positive or negative errno. */
export function errnoName(errno: number): string {
  return NAMES.get(Math.abs(errno)) ?? `E${Math.abs(errno)}`;
}

/** The error `connectionLost` gets for a socket fault: a reset is typed, the rest keep their name. */
export function socketError(errno: number): Error {
  const name = errnoName(errno);
  if (name === 'ECONNRESET' || name === 'EPIPE') return new ConnectionResetError(name);
  return new SocketError(name, `socket error ${name}`);
}
