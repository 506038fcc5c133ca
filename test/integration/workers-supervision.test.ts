/**
 * Worker groups through the library API (`serveWorkers`), the test process as the primary: a
 * crashed worker comes back after an exponential back-off, a crash loop stops restarts and
 * ends the group with status 1, and the merged metrics equal the sum of the workers'.
 *
 * Runs on Node 20 (cluster mode with the net transport) and Node >= 22.12 (reuseport).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { netHasReusePort } from '../../src/net/listener.js';
import { askPid, crashOne, get, sample, startGroup, waitUntil } from './workers-support.js';

const EXPECTED_MODE = netHasReusePort() ? 'reuseport' : 'cluster';

describe('serveWorkers supervision', () => {
  it(`starts every worker in ${EXPECTED_MODE} mode and spreads connections over them`, async () => {
    const { group, port, info } = await startGroup({ workers: 2 });
    try {
      assert.equal(group.mode, EXPECTED_MODE);
      assert.match(
        info[0]!,
        new RegExp(
          `^Serving on 127\\.0\\.0\\.1:${port} \\(net transport, 2 workers, ${EXPECTED_MODE}\\)$`,
        ),
      );
      assert.match(
        info[2]!,
        /^capacity: 2 workers × \([\d,]+ open files per process − 64 reserved\) = [\d,]+ connections$/,
      );
      const workerPids = new Set(group.status().map((slot) => slot.pid));
      assert.equal(workerPids.size, 2);
      assert.ok(!workerPids.has(process.pid), 'the primary serves no connection');
      const seen = new Set<number>();
      for (let i = 0; i < 40 && seen.size < 2; i++) seen.add(await askPid(port));
      assert.deepEqual([...seen].sort(), [...workerPids].sort());
    } finally {
      assert.equal(await group.shutdown(), 0);
    }
  });

  it('restarts a crashed worker after an exponential back-off', async () => {
    const { group, port, news } = await startGroup({
      workers: 1,
      restart: { backoffMs: 200, maxBackoffMs: 5000, crashLoopLimit: 5, windowMs: 30_000 },
    });
    try {
      const first = group.status()[0]!.pid;
      const crashedAt = Date.now();
      await crashOne(port);
      await waitUntil(
        () => group.status()[0]!.up && group.status()[0]!.pid !== first,
        5000,
        'restart',
      );
      const firstDelay = Date.now() - crashedAt;
      assert.ok(firstDelay >= 190, `back in ${firstDelay} ms, before the 200 ms back-off`);
      assert.match(
        news.join('\n'),
        /worker 0 exited \(code 3\); restarting in 200 ms \(1 crash within 30 s\)/,
      );
      const second = group.status()[0]!.pid;
      const again = Date.now();
      await crashOne(port);
      await waitUntil(
        () => group.status()[0]!.up && group.status()[0]!.pid !== second,
        5000,
        'restart',
      );
      const secondDelay = Date.now() - again;
      assert.ok(secondDelay >= 390, `back in ${secondDelay} ms, before the doubled back-off`);
      assert.match(news.join('\n'), /restarting in 400 ms \(2 crashes within 30 s\)/);
      assert.equal(group.status()[0]!.restarts, 2);
      assert.notEqual(await askPid(port), first, 'the new worker serves');
    } finally {
      assert.equal(await group.shutdown(), 0);
    }
  });

  it('stops restarting a crash-looping slot and exits 1 when no worker is left', async () => {
    const { group, news } = await startGroup({
      workers: 1,
      args: { crashAfterMs: 150 },
      restart: { backoffMs: 20, maxBackoffMs: 100, crashLoopLimit: 3, windowMs: 30_000 },
    });
    const code = await Promise.race([
      group.closed,
      new Promise((resolve) => setTimeout(() => resolve('still running'), 8000)),
    ]);
    assert.equal(code, 1);
    const text = news.join('\n');
    assert.match(text, /restarting in 20 ms \(1 crash/);
    assert.match(text, /restarting in 40 ms \(2 crashes/);
    assert.match(
      text,
      /worker 0 exited \(code 3\): crash loop, 3 crashes within 30 s; not restarting it/,
    );
    assert.match(text, /every worker is in a crash loop; exiting/);
    assert.equal(group.status()[0]!.state, 'failed');
  });

  it('serves merged metrics equal to the sum of the workers’, and per-worker liveness', async () => {
    const { group, port } = await startGroup({ workers: 2, metrics: { port: 0 } });
    try {
      const perWorker = new Map<number, number>();
      for (let i = 0; i < 30; i++) {
        const pid = await askPid(port);
        perWorker.set(pid, (perWorker.get(pid) ?? 0) + 1);
      }
      assert.equal(perWorker.size, 2, 'both workers served');
      const url = group.metricsUrl!;
      // Connections close after the answer: wait until both workers counted every close.
      let body = '';
      for (let attempt = 0; attempt < 50; attempt++) {
        body = (await get(url)).body;
        if (sample(body, 'aionet_connections_closed_total{reason="normal"}') === 30) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const sum = [...perWorker.values()].reduce((a, b) => a + b, 0);
      assert.equal(sample(body, 'aionet_connections_accepted_total'), sum);
      assert.equal(sample(body, 'aionet_connections_closed_total{reason="normal"}'), sum);
      assert.equal(sample(body, 'aionet_connections_active'), 0);
      assert.equal(sample(body, 'aionet_worker_up{worker="0"}'), 1);
      assert.equal(sample(body, 'aionet_worker_up{worker="1"}'), 1);
      assert.equal(sample(body, 'aionet_worker_restarts_total{worker="0"}'), 0);
      assert.ok((sample(body, 'process_resident_memory_bytes') ?? 0) > 0, 'default metrics merged');
      const health = await get(url.replace('/metrics', '/healthz'));
      assert.equal(health.status, 200);
    } finally {
      assert.equal(await group.shutdown(), 0);
    }
  });
});
