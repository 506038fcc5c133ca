/**
 * A worker group: N supervised slots serving one address, and the group-wide operations —
 * start (the first worker alone, so a bad configuration fails fast and port 0 is fixed for the
 * rest), drain every worker (shutdown fan-out), roll them one at a time (SIGHUP), kill them.
 * Signals and output are the caller's business (`run-group.ts`); this class only supervises.
 */
import type { Backend } from '../backend.js';
import { formatAddress, type SocketAddress } from '../transport.js';
import type { CrashVerdict } from './crash-history.js';
import type { WorkerMode } from './mode.js';
import type { ResolvedRestartPolicy } from './options.js';
import { Slot } from './slot.js';
import { describeExit, type WorkerExit, type WorkerLaunch } from './worker-process.js';

/** Everything a group needs to run. */
export interface GroupConfig {
  readonly workers: number;
  readonly mode: WorkerMode;
  /** The program of every worker; `port` is the port to use once the first worker chose one. */
  launch(port: number | undefined): WorkerLaunch;
  readonly restart: ResolvedRestartPolicy;
  readonly startTimeout: number;
  readonly drainTimeout: number;
  /** One line of news (restarts, crash loops, rolls): stderr in the CLI. */
  log(line: string): void;
}

/** How the group went down. */
export interface GroupSummary {
  /** Connections that ended by themselves during the drains. */
  readonly drained: number;
  /** Connections reset when a drain timed out. */
  readonly aborted: number;
  /** Connections served by the workers that drained. */
  readonly accepted: number;
  /** Workers that reported their drain. */
  readonly workersReported: number;
  /** Restarts after crashes, over all slots. */
  readonly restarts: number;
}

/** One slot as shown to metrics and tests. */
export interface SlotStatus {
  readonly slot: number;
  readonly up: boolean;
  readonly pid: number | undefined;
  readonly restarts: number;
  readonly state: string;
}

/** A supervised group of workers. */
export class WorkerGroup {
  readonly #config: GroupConfig;
  readonly #slots: Slot[];
  #fixedPort: number | undefined;
  #addresses: readonly SocketAddress[] = [];
  #backend: Backend = 'net';
  #rolling: Promise<void> | undefined;
  #stopping = false;
  #allFailed: () => void = () => {};
  /** Resolves when every slot has stopped in a crash loop: nothing is left to serve. */
  readonly allFailed: Promise<void>;

  constructor(config: GroupConfig) {
    this.#config = config;
    this.allFailed = new Promise((resolve) => {
      this.#allFailed = resolve;
    });
    const settings = {
      mode: config.mode,
      launch: () => config.launch(this.#fixedPort),
      restart: config.restart,
      startTimeout: config.startTimeout,
      events: {
        up: (slot: Slot, worker: { pid: number | undefined }, _ready: unknown, why: string) => {
          if (why === 'restart') config.log(`worker ${slot.index} up again (pid ${worker.pid})`);
        },
        crashed: (slot: Slot, exit: WorkerExit | Error, verdict: CrashVerdict) =>
          this.#reportCrash(slot, exit, verdict),
        stopped: () => {
          if (!this.#stopping && this.#slots.every((slot) => slot.state === 'failed')) {
            this.#allFailed();
          }
        },
      },
    };
    this.#slots = Array.from({ length: config.workers }, (_, index) => new Slot(index, settings));
  }

  /** The mode the workers share the address in. */
  get mode(): WorkerMode {
    return this.#config.mode;
  }

  /** Where the group listens (what the first worker reported). */
  get addresses(): readonly SocketAddress[] {
    return this.#addresses;
  }

  /** The backend the workers run on (what the first worker reported). */
  get backend(): Backend {
    return this.#backend;
  }

  /** Each slot: up or not, its process, its restarts. */
  status(): SlotStatus[] {
    return this.#slots.map((slot) => ({
      slot: slot.index,
      up: slot.isUp,
      pid: slot.worker?.pid,
      restarts: slot.restarts,
      state: slot.state,
    }));
  }

  /** The slots, for metrics requests. */
  get slots(): readonly Slot[] {
    return this.#slots;
  }

  /**
   * Starts the first worker, then the others; resolves when every worker listens once (or has
   * gone into back-off). Rejects when the first worker cannot start: a configuration error
   * (port in use, bad module) that restarting would only repeat.
   */
  async start(): Promise<void> {
    const [first, ...rest] = this.#slots;
    const ready = await first!.start();
    this.#addresses = ready.addresses;
    this.#backend = ready.backend;
    const port = ready.addresses.find((address) => address.family !== 'unix');
    // Port 0 in reuseport mode: the others must join the port the first one got. (Cluster
    // mode shares one handle in the primary, keyed by the port asked for: keep asking for 0.)
    if (this.#config.mode === 'reuseport' && port !== undefined && 'port' in port) {
      this.#fixedPort = port.port;
    }
    await Promise.all(
      rest.map(async (slot) => {
        try {
          await slot.start();
        } catch (error) {
          // Counted as a crash: back-off and the crash-loop limit apply.
          slot.crashedAtStart(error as Error);
        }
      }),
    );
  }

  /**
   * Rolling restart: one slot at a time, a new worker listens before the old one drains, so
   * the address never stops accepting. A second call while one runs returns the same promise.
   * A new worker that fails to start stops the roll (the old one keeps serving).
   */
  roll(): Promise<void> {
    if (this.#stopping) return Promise.resolve();
    this.#rolling ??= (async () => {
      try {
        for (const slot of this.#slots) {
          if (this.#stopping) break;
          if (slot.state !== 'up') continue;
          const before = slot.worker?.pid;
          try {
            await slot.roll(this.#config.drainTimeout);
          } catch (error) {
            this.#config.log(
              `rolling restart stopped: a new worker ${slot.index} did not start: ${(error as Error).message}`,
            );
            return;
          }
          this.#config.log(`worker ${slot.index} rolled (pid ${before} -> ${slot.worker?.pid})`);
        }
      } finally {
        this.#rolling = undefined;
      }
    })();
    return this.#rolling;
  }

  /** Drains every worker at once and resolves with what they reported, when all have exited. */
  async shutdown(): Promise<GroupSummary> {
    this.#stopping = true;
    await this.#rolling?.catch(() => {});
    await Promise.all(this.#slots.map((slot) => slot.drain(this.#config.drainTimeout)));
    return this.summary();
  }

  /** Kills every worker at once. */
  kill(): void {
    this.#stopping = true;
    for (const slot of this.#slots) slot.kill();
  }

  /** What the drained workers reported, summed. */
  summary(): GroupSummary {
    let drained = 0;
    let aborted = 0;
    let accepted = 0;
    let workersReported = 0;
    let restarts = 0;
    for (const slot of this.#slots) {
      restarts += slot.restarts;
      for (const report of slot.drained) {
        workersReported++;
        drained += report.result.drained;
        aborted += report.result.aborted;
        accepted += report.totals.accepted;
      }
    }
    return { drained, aborted, accepted, workersReported, restarts };
  }

  #reportCrash(slot: Slot, exit: WorkerExit | Error, verdict: CrashVerdict): void {
    const how = exit instanceof Error ? `failed to start: ${exit.message}` : describeExit(exit);
    const windowS = this.#config.restart.windowMs / 1000;
    if (verdict.restart) {
      this.#config.log(
        `worker ${slot.index} exited (${how}); restarting in ${verdict.delayMs} ms ` +
          `(${verdict.crashes} crash${verdict.crashes === 1 ? '' : 'es'} within ${windowS} s)`,
      );
    } else {
      this.#config.log(
        `worker ${slot.index} exited (${how}): crash loop, ${verdict.crashes} crashes within ` +
          `${windowS} s; not restarting it`,
      );
    }
  }
}

/** `127.0.0.1:7000, [::1]:7000`. */
export function formatAddresses(addresses: readonly SocketAddress[]): string {
  return addresses.map(formatAddress).join(', ');
}
