/**
 * The worker-group names aionet exports: `serveWorkers` and its types. No logic lives here.
 */
export type { SlotStatus } from './group.js';
export type { WorkerMode } from './mode.js';
export type { GroupSettings, RestartPolicy } from './options.js';
export type { GroupOutput } from './run-group.js';
export {
  type ServeWorkersOptions,
  serveWorkers,
  type WorkerGroupHandle,
  type WorkerServerOptions,
} from './serve-workers.js';
