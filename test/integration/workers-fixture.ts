/**
 * The protocol module the worker tests hand to `serveWorkers`: each worker imports it. A line
 * protocol that answers every line with `<pid> <line>`; the line `crash` ends the worker
 * (exit 1), and `args.crashAfterMs` makes every worker exit that long after it starts.
 */

import { FramedProtocol } from '../../src/codecs/framed-protocol.js';
import { LineCodec } from '../../src/codecs/line-codec.js';
import type { ProtocolFactory } from '../../src/protocol.js';

/** What a test asks of its workers. */
export interface FixtureArgs {
  /** Exit with status 3 this long after starting (a crash loop). */
  readonly crashAfterMs?: number;
}

/** Exit status of a worker told to crash. */
export const CRASH_EXIT = 3;

class PidEcho extends FramedProtocol<Buffer, Uint8Array> {
  constructor() {
    super(new LineCodec());
  }

  override frameReceived(frame: Buffer): void {
    const line = frame.toString('utf8');
    if (line === 'crash') process.exit(CRASH_EXIT);
    this.transport.write(Buffer.from(`${process.pid} ${line}\n`));
  }
}

export default function makeFactory(args: FixtureArgs | null): ProtocolFactory {
  if (args?.crashAfterMs !== undefined)
    setTimeout(() => process.exit(CRASH_EXIT), args.crashAfterMs);
  return () => new PidEcho();
}
