/**
 * One worker slot of a group: keeps one worker process running. A worker that exits without
 * being asked is restarted after an exponential back-off; a crash loop stops the slot. A slot
 * can be rolled (a new worker listens before the old one drains) and drained for good.
 *
 *     starting → up → (crash → backoff → starting)* → draining → done
 *                     crash loop → failed
 */
import { CrashHistory, type CrashVerdict } from './crash-history.js';
import type { WorkerMode } from './mode.js';
import { EXIT_GRACE_MS, type ResolvedRestartPolicy } from './options.js';
import {
  type WorkerDrained,
  type WorkerExit,
  type WorkerLaunch,
  WorkerProcess,
  type WorkerReady,
} from './worker-process.js';

/** Where a slot is in its life. */
export type SlotState = 'starting' | 'up' | 'backoff' | 'draining' | 'done' | 'failed';

/** What a slot tells its group. */
export interface SlotEvents {
  /** A worker of the slot listens: its first start, a restart after a crash, or a roll. */
  up(
    slot: Slot,
    worker: WorkerProcess,
    ready: WorkerReady,
    why: 'start' | 'restart' | 'roll',
  ): void;
  /** A worker exited unasked; `verdict` says whether it comes back and when. */
  crashed(slot: Slot, exit: WorkerExit | Error, verdict: CrashVerdict): void;
  /** The slot has stopped for good (crash loop, or drained). */
  stopped(slot: Slot): void;
}

/** Settings every slot of a group shares. */
export interface SlotSettings {
  readonly mode: WorkerMode;
  /** The program to run; read at each start (the port is fixed after the first one). */
  launch(): WorkerLaunch;
  readonly restart: ResolvedRestartPolicy;
  readonly startTimeout: number;
  readonly events: SlotEvents;
}

/** A supervised place for one worker. */
export class Slot {
  readonly index: number;
  readonly #settings: SlotSettings;
  readonly #crashes: CrashHistory;
  #state: SlotState = 'starting';
  #worker: WorkerProcess | undefined;
  #generation = 0;
  #restartTimer: NodeJS.Timeout | undefined;
  /** Reports of the workers that drained in this slot (rolls and the final drain). */
  readonly drained: WorkerDrained[] = [];

  constructor(index: number, settings: SlotSettings) {
    this.index = index;
    this.#settings = settings;
    this.#crashes = new CrashHistory(settings.restart);
  }

  get state(): SlotState {
    return this.#state;
  }

  /** The worker serving now, if any. */
  get worker(): WorkerProcess | undefined {
    return this.#worker;
  }

  /** Restarts after crashes so far. */
  get restarts(): number {
    return this.#crashes.total;
  }

  /** Whether a worker of the slot listens now. */
  get isUp(): boolean {
    return this.#state === 'up' && this.#worker?.isUp === true;
  }

  /**
   * Starts the slot's worker; resolves when it listens. Rejects when this first start fails:
   * the group then decides (a first start that fails is a configuration error, not a crash).
   */
  async start(): Promise<WorkerReady> {
    const worker = this.#spawn();
    const ready = await this.#whenReady(worker);
    this.#watch(worker);
    this.#state = 'up';
    this.#settings.events.up(this, worker, ready, this.#crashes.total > 0 ? 'restart' : 'start');
    return ready;
  }

  /**
   * Rolls the slot: starts a new worker, and once it listens drains the old one. Resolves when
   * the old worker has exited; rejects (keeping the old worker) when the new one fails to start.
   */
  async roll(drainTimeout: number): Promise<void> {
    const old = this.#worker;
    if (this.#state !== 'up' || old === undefined) return;
    const fresh = this.#spawn();
    let ready: WorkerReady;
    try {
      ready = await this.#whenReady(fresh);
    } catch (error) {
      this.#worker = old;
      // The old worker may have died while the new one was failing: the slot restarts then.
      if (old.hasExited) this.#crashed(error as Error);
      throw error;
    }
    this.#watch(fresh);
    this.#settings.events.up(this, fresh, ready, 'roll');
    await this.#drainWorker(old, drainTimeout);
  }

  /** Drains the slot's worker and stops the slot for good; resolves when it has exited. */
  async drain(drainTimeout: number): Promise<void> {
    clearTimeout(this.#restartTimer);
    const worker = this.#worker;
    if (this.#state === 'done' || this.#state === 'failed') return;
    this.#state = 'draining';
    if (worker !== undefined && !worker.hasExited) await this.#drainWorker(worker, drainTimeout);
    this.#state = 'done';
    this.#settings.events.stopped(this);
  }

  /**
   * Starts the slot's worker under supervision: a failure to start counts as a crash (back-off,
   * crash loop) instead of rejecting.
   */
  startSupervised(): void {
    this.start().catch((error: Error) => {
      if (this.#state === 'starting') this.#crashed(error);
    });
  }

  /** Counts a failed first start as a crash: back-off, then another try (or a crash loop). */
  crashedAtStart(error: Error): void {
    if (this.#state === 'starting') this.#crashed(error);
  }

  /** Kills the slot's worker at once and stops the slot. */
  kill(): void {
    clearTimeout(this.#restartTimer);
    if (this.#state !== 'failed') this.#state = 'done';
    this.#worker?.kill('SIGKILL');
  }

  #spawn(): WorkerProcess {
    const { mode } = this.#settings;
    const launch = this.#settings.launch();
    const worker = new WorkerProcess(mode, launch, this.index, this.#generation++);
    this.#worker = worker;
    return worker;
  }

  /** Waits for `worker` to listen, within the start timeout (killing it past that). */
  async #whenReady(worker: WorkerProcess): Promise<WorkerReady> {
    let timer: NodeJS.Timeout | undefined;
    const overdue = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        worker.kill('SIGKILL');
        reject(new Error(`did not listen within ${this.#settings.startTimeout} ms`));
      }, this.#settings.startTimeout);
    });
    try {
      return await Promise.race([worker.ready, overdue]);
    } catch (error) {
      worker.kill('SIGKILL');
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Restarts the slot when `worker` exits while it is still the slot's worker, unasked. */
  #watch(worker: WorkerProcess): void {
    void worker.exited.then((exit) => {
      if (this.#worker !== worker || this.#state !== 'up') return;
      this.#crashed(exit);
    });
  }

  #crashed(exit: WorkerExit | Error): void {
    const verdict = this.#crashes.record(performance.now());
    if (!verdict.restart) {
      this.#state = 'failed';
      this.#worker = undefined;
      this.#settings.events.crashed(this, exit, verdict);
      this.#settings.events.stopped(this);
      return;
    }
    this.#state = 'backoff';
    this.#settings.events.crashed(this, exit, verdict);
    this.#restartTimer = setTimeout(() => {
      if (this.#state !== 'backoff') return;
      this.#state = 'starting';
      this.startSupervised();
    }, verdict.delayMs);
  }

  /** Asks `worker` to drain; kills it when it overstays its drain timeout plus grace. */
  async #drainWorker(worker: WorkerProcess, drainTimeout: number): Promise<void> {
    // A worker that does not listen yet has nothing to drain (and no one to read the message).
    if (!worker.isUp || !worker.send({ type: 'aionet:shutdown', drainTimeout })) {
      worker.kill('SIGTERM');
    }
    const overdue = setTimeout(() => worker.kill('SIGKILL'), drainTimeout + EXIT_GRACE_MS);
    await worker.exited;
    clearTimeout(overdue);
    if (worker.drained !== undefined) this.drained.push(worker.drained);
  }
}
