/**
 * The group's one metrics endpoint, served by the primary: every worker's registry (asked over
 * IPC at scrape time) merged with prom-client's `AggregatorRegistry.aggregate` — counters and
 * gauges summed, each default metric by its own aggregator — plus the primary's view of the
 * workers: `aionet_worker_up{worker="N"}` and `aionet_worker_restarts_total{worker="N"}`.
 *
 * The same IPC path serves both modes (cluster and reuseport), so merging does not depend on
 * `node:cluster`. A worker that does not answer within the scrape timeout is left out of that
 * scrape, and `aionet_worker_up` says which.
 */
import { AggregatorRegistry, Counter, Gauge, Registry } from 'prom-client';
import type { WorkerGroup } from './group.js';

/** Milliseconds a scrape waits for each worker's answer: Prometheus' default timeout is 10 s. */
export const WORKER_METRICS_TIMEOUT_MS = 2_000;

/** A registry that, when collected, merges the group's workers and its own metrics. */
export class GroupRegistry extends Registry {
  readonly #group: WorkerGroup;
  readonly #own = new Registry();
  #nextId = 0;
  readonly #pending = new Map<number, (metrics: unknown[]) => void>();

  constructor(group: WorkerGroup, prefix = 'aionet_') {
    super();
    this.#group = group;
    const registers = [this.#own];
    new Gauge({
      name: `${prefix}worker_up`,
      help: 'Whether the worker in this slot listens (1) or not (0: starting, backing off, stopped).',
      labelNames: ['worker'],
      registers,
      collect() {
        for (const slot of group.status()) this.set({ worker: String(slot.slot) }, slot.up ? 1 : 0);
      },
    });
    new Counter({
      name: `${prefix}worker_restarts_total`,
      help: 'Restarts of the worker in this slot after it exited unasked.',
      labelNames: ['worker'],
      registers,
      collect() {
        this.reset();
        for (const slot of group.status()) this.inc({ worker: String(slot.slot) }, slot.restarts);
      },
    });
  }

  /** Every worker's metrics, as prom-client JSON arrays (a silent worker gives none). */
  async collectWorkers(): Promise<unknown[][]> {
    const answers = this.#group.slots.map((slot) => {
      const worker = slot.worker;
      if (worker === undefined || !worker.isUp) return Promise.resolve(undefined);
      const id = this.#nextId++;
      return new Promise<unknown[] | undefined>((resolve) => {
        const timer = setTimeout(() => {
          this.#pending.delete(id);
          resolve(undefined);
        }, WORKER_METRICS_TIMEOUT_MS);
        this.#pending.set(id, (metrics) => {
          clearTimeout(timer);
          this.#pending.delete(id);
          resolve(metrics);
        });
        worker.onMetrics((answerId, metrics) => this.#pending.get(answerId)?.(metrics));
        if (!worker.send({ type: 'aionet:metrics', id })) this.#pending.get(id)?.([]);
      });
    });
    const lists = await Promise.all(answers);
    return lists.filter((list): list is unknown[] => list !== undefined && list.length > 0);
  }

  /** The merged registry of this scrape. */
  async merged(): Promise<Registry> {
    const lists = await this.collectWorkers();
    const own = await this.#own.getMetricsAsJSON();
    return AggregatorRegistry.aggregate([...lists, own] as Parameters<
      typeof AggregatorRegistry.aggregate
    >[0]);
  }

  override async metrics(): Promise<string> {
    return (await this.merged()).metrics();
  }

  override async getMetricsAsJSON(): ReturnType<Registry['getMetricsAsJSON']> {
    return (await this.merged()).getMetricsAsJSON();
  }
}
