/**
 * The entry point of a `serveWorkers` worker: reads its plan from the environment, imports the
 * protocol module, listens, and serves as a worker until the primary has it drain.
 */
import { resolveBackend } from '../backend.js';
import { createServer } from '../create-server.js';
import { AionetError } from '../errors.js';
import type { ProtocolFactory } from '../protocol.js';
import { WORKER_SPEC_ENV, type WorkerSpec } from './serve-workers.js';
import {
  reportStartFailure,
  serveAsWorker,
  workerIdentity,
  workerServerOptions,
} from './worker-runtime.js';

/** Exit status of a worker that could not start. */
const EXIT_START_FAILED = 1;
/** Exit status when run by hand, not by a primary. */
const EXIT_USAGE = 2;

const identity = workerIdentity();
const specText = process.env[WORKER_SPEC_ENV];
if (identity === undefined || specText === undefined) {
  process.stderr.write('worker-main is started by serveWorkers(), not by hand\n');
  process.exit(EXIT_USAGE);
}

const spec = JSON.parse(specText) as WorkerSpec;
let served: Awaited<ReturnType<typeof start>>;
try {
  served = await start(spec);
} catch (error) {
  await reportStartFailure(error);
  process.exit(EXIT_START_FAILED);
}
const code = await serveAsWorker(served.server, {
  backend: served.backend,
  drainTimeout: spec.drainTimeout,
});
process.exit(code);

async function start(plan: WorkerSpec) {
  const loaded = (await import(plan.module)) as Record<string, unknown>;
  const make = loaded[plan.export];
  if (typeof make !== 'function') {
    throw new TypeError(`${plan.module} has no function export '${plan.export}'`);
  }
  const factory = (await make(plan.args)) as ProtocolFactory;
  const backend = resolveBackend(plan.server.transport);
  const server = await createServer(factory, {
    ...plan.server,
    transport: backend,
    ...workerServerOptions(identity),
    onError: (error, context) => {
      const code = error instanceof AionetError ? `${error.code}: ` : '';
      const where = context.operation ?? 'connection';
      process.stderr.write(`aionet worker ${identity?.slot}: ${where}: ${code}${error.message}\n`);
    },
  });
  return { server, backend };
}
