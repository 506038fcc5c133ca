/**
 * The entry point of one worker process of `aionet bench --processes K`: it waits for its plan
 * on the IPC channel, runs it, streams progress, sends its result and exits.
 *
 * A worker never outlives its run: it exits when the parent disconnects (the parent died or
 * gave up), and a hard timer ends it at the run's bound plus grace whatever happens.
 */
import type { ModeRun } from './mode-run.js';
import { createRun, RUN_GRACE_MS, runBoundMs } from './run.js';
import { decodePlan, type FromWorker, isToWorker } from './worker-protocol.js';

/** Period of progress messages, in milliseconds: the parent's status line redraws each second. */
const PROGRESS_INTERVAL_MS = 1000;

/** Exit status of a worker cut by its hard timer. */
const EXIT_OVERRUN = 3;

/** How long a worker waits for its plan after start-up, in milliseconds. */
const PLAN_WAIT_MS = 30_000;

let run: ModeRun | undefined;

function send(message: FromWorker, then?: () => void): void {
  if (process.send === undefined || !process.connected) {
    then?.();
    return;
  }
  process.send(message, undefined, {}, () => then?.());
}

async function start(plan: ReturnType<typeof decodePlan>): Promise<void> {
  const hardStop = setTimeout(() => process.exit(EXIT_OVERRUN), runBoundMs(plan) + RUN_GRACE_MS);
  hardStop.unref();
  const current = createRun(plan);
  run = current;
  const progress = setInterval(() => {
    const p = current.progress();
    send({ type: 'progress', progress: { ...p, histogram: p.histogram.encode() } });
  }, PROGRESS_INTERVAL_MS);
  try {
    const result = await current.run();
    clearInterval(progress);
    send({ type: 'result', result }, () => process.exit(0));
  } catch (error) {
    clearInterval(progress);
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
    send({ type: 'error', message }, () => process.exit(1));
  }
}

if (process.send === undefined) {
  process.stderr.write('worker-main is started by `aionet bench --processes K`, not by hand\n');
  process.exit(2);
}

const planTimer = setTimeout(() => process.exit(EXIT_OVERRUN), PLAN_WAIT_MS);
planTimer.unref();

process.on('message', (message: unknown) => {
  if (!isToWorker(message)) return;
  if (message.type === 'stop') {
    run?.stop();
  } else if (run === undefined) {
    clearTimeout(planTimer);
    void start(decodePlan(message.plan));
  }
});
// The parent is gone: nobody will read the result.
process.on('disconnect', () => process.exit(0));
// Ctrl-C reaches the whole process group: stop measuring, the parent still gets the result.
process.on('SIGINT', () => run?.stop());
process.on('SIGTERM', () => run?.stop());
