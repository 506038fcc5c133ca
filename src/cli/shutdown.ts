/**
 * How `aionet serve` ends: the first SIGINT/SIGTERM starts a graceful `server.shutdown()` (stop
 * accepting at once, let protocols finish, close idle connections, reset what is left after the
 * drain timeout) and exits 0 with a summary; a second signal resets every connection and exits
 * 130 at once.
 */
import type { Server } from '../server.js';
import type { CliLogger } from './logger.js';
import { EXIT_FORCED, EXIT_OK } from './usage.js';

/** What the shutdown needs to know. */
export interface ShutdownSettings {
  /** Milliseconds busy connections get before they are reset. */
  readonly drainTimeout: number;
  readonly logger: CliLogger;
  /** Runs once the last connection is gone, before the exit (closes the metrics endpoint). */
  readonly afterDrain?: () => Promise<void>;
}

/** Serves until a signal; resolves with the exit status. */
export function untilSignal(server: Server, settings: ShutdownSettings): Promise<number> {
  const { drainTimeout, logger, afterDrain } = settings;
  return new Promise((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        logger.shutdownForced(signal, server.connectionCount());
        server.abortClients();
        resolve(EXIT_FORCED);
        return;
      }
      stopping = true;
      const started = performance.now();
      logger.shutdown(signal, drainTimeout, server.connectionCount());
      void server
        .shutdown({ drainTimeout })
        .then(async ({ drained, aborted }) => {
          logger.shutdownComplete(drained, aborted, Math.round(performance.now() - started));
          await afterDrain?.();
        })
        .finally(() => {
          process.removeListener('SIGINT', onSignal);
          process.removeListener('SIGTERM', onSignal);
          resolve(EXIT_OK);
        });
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}
