/**
 * The file of a Unix domain socket a server listens on, for every backend: a stale file (left
 * by a server that crashed) is removed before listening, but only when nothing answers on it;
 * `mode` sets its permissions once it listens. Removing it on close is the listeners' job:
 * Node's `net` and the native engine both unlink the path when the listening socket closes.
 *
 * Linux abstract names (a leading NUL) have no file: nothing to remove, nothing to chmod.
 */
import { chmod, lstat, unlink } from 'node:fs/promises';
import net from 'node:net';
import { ListenError } from '../errors.js';

/**
 * Milliseconds to wait for an answer on an existing socket file. A live server on the same
 * machine answers (or refuses) at once; the bound only stops a wedged one from hanging startup.
 */
const STALE_PROBE_TIMEOUT_MS = 1_000;

/** True for a Linux abstract socket name, which is not a file. */
export function isAbstractPath(path: string): boolean {
  return path.startsWith('\0');
}

/**
 * Makes `path` free to listen on. Nothing there: nothing to do. A socket file nobody listens on
 * (connecting is refused): removed. A live socket, or a file that is not a socket: refused
 * with `ListenError` (`EADDRINUSE`) — never delete what another server, or the user, owns.
 * Check and removal are not atomic: two servers started on one path at once may race.
 * @throws ListenError when the path is in use or cannot be inspected.
 */
export async function removeStaleSocket(path: string): Promise<void> {
  if (isAbstractPath(path)) return;
  let isSocket: boolean;
  try {
    isSocket = (await lstat(path)).isSocket();
  } catch (error) {
    const errno = errnoOf(error);
    if (errno === 'ENOENT') return;
    throw new ListenError(path, errno, error);
  }
  if (!isSocket) throw new ListenError(path, 'EADDRINUSE');
  const answer = await probe(path);
  if (answer === 'listening') throw new ListenError(path, 'EADDRINUSE');
  if (answer !== 'ECONNREFUSED') return; // EACCES…: let listen() say what is wrong
  try {
    await unlink(path);
  } catch (error) {
    if (errnoOf(error) !== 'ENOENT') throw new ListenError(path, errnoOf(error), error);
  }
}

/**
 * Sets the socket file's permission bits (`0o660`: owner and group may connect). Done right
 * after listening, so for a moment the file has the umask's bits; put the socket in a
 * directory of the right permissions where that moment matters.
 * @throws ListenError when chmod fails.
 */
export async function setSocketMode(path: string, mode: number): Promise<void> {
  if (isAbstractPath(path)) return;
  try {
    await chmod(path, mode);
  } catch (error) {
    throw new ListenError(path, errnoOf(error), error);
  }
}

/** Connects to the socket: `listening` if something accepts, else the connect error's code. */
function probe(path: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect({ path });
    const done = (answer: string) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    const timer = setTimeout(() => done('listening'), STALE_PROBE_TIMEOUT_MS);
    socket.once('connect', () => done('listening'));
    socket.once('error', (error) => done(errnoOf(error)));
  });
}

function errnoOf(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? 'EUNKNOWN';
}
