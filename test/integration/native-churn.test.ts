/**
 * 100,000 connections churned through a native server (connect, one message, close), with the
 * server in its own process: afterwards its open descriptors are exactly what they were before,
 * and the second 50,000 connections leave its resident memory where the first 50,000 did — no
 * socket, slot, queue or transport leaks. (The first ones grow V8's heap to its working size,
 * which it keeps, on either backend; a leak keeps growing. On a loaded machine the heap may
 * still be growing over the second half: then a third half must leave it where it was.)
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { after, describe, it } from 'node:test';
import { CliProcess } from '../helpers/cli.js';
import { delay } from '../helpers/net.js';
import { nativeSkip } from '../helpers/transports.js';

const TOTAL = 100_000;
/**
 * Connections churned before the baseline: under churn V8 grows the heap to a working size it
 * keeps (about 100 MB for `aionet serve`, reached after some 60,000 connections on a busy
 * machine, on either backend); the measured halves start near it.
 */
const WARM_UP = 40_000;
/** Connections in flight at once (the load generator's churn uses 64 too). */
const CONCURRENCY = 64;
/**
 * Growth allowed over the second half: noise of the heap's working size. A leak of 170 bytes
 * per connection would pass it over 50,000 connections.
 */
const RSS_SLACK_BYTES = 8 * 1024 * 1024;

const running: CliProcess[] = [];
after(() => {
  for (const cli of running) cli.kill();
});

/** One connection: send a message, wait for the 16-byte reply, close, wait for the close. */
function once(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let got = 0;
    const socket = net.connect({ port, host: '127.0.0.1' }, () => socket.write('hello\n'));
    socket.on('data', (data) => {
      got += data.length;
      if (got >= 16) socket.end();
    });
    socket.on('error', reject);
    socket.on('close', () => (got >= 16 ? resolve() : reject(new Error('no reply'))));
  });
}

async function churn(port: number, count: number): Promise<void> {
  let started = 0;
  const worker = async () => {
    while (started < count) {
      started++;
      await once(port);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
}

function rssBytes(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+) kB/m);
  return Number(line![1]) * 1024;
}

function openFds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

describe('native churn', { skip: nativeSkip }, () => {
  it(`${TOTAL.toLocaleString('en')} connections: descriptors and memory back at baseline`, async (t) => {
    const { cli, port } = await CliProcess.serve(['--quiet', '--transport', 'native']);
    running.push(cli);
    const pid = cli.child.pid!;
    await churn(port, WARM_UP);
    await delay(500);
    const fds = openFds(pid);
    const rss = rssBytes(pid);
    const started = Date.now();
    await churn(port, TOTAL / 2);
    await delay(500);
    const rssHalf = rssBytes(pid);
    await churn(port, TOTAL / 2);
    const seconds = (Date.now() - started) / 1000;
    await delay(500);
    const fdsAfter = openFds(pid);
    let rssAfter = rssBytes(pid);
    const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
    t.diagnostic(
      `${Math.round(TOTAL / seconds)} conn/s; fds ${fds} -> ${fdsAfter}; ` +
        `RSS ${mib(rss)} -> ${mib(rssHalf)} -> ${mib(rssAfter)} MiB`,
    );
    assert.equal(fdsAfter, fds, 'every accepted socket was closed');
    let grown = rssAfter - rssHalf;
    if (grown >= RSS_SLACK_BYTES) {
      // On a loaded machine V8 may still be growing its heap toward its working size (no major
      // GC yet). A leak grows by as much again over one more half; a heap that reached its
      // size does not.
      const before = rssAfter;
      await churn(port, TOTAL / 2);
      await delay(500);
      rssAfter = rssBytes(pid);
      grown = rssAfter - before;
      t.diagnostic(`one more half: RSS ${mib(before)} -> ${mib(rssAfter)} MiB`);
    }
    assert.ok(
      grown < RSS_SLACK_BYTES,
      `RSS grew by ${mib(grown)} MiB over each of two halves of ${TOTAL / 2} connections`,
    );
    cli.kill('SIGINT');
    assert.equal(await cli.exited, 0);
  });
});
