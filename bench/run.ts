/**
 * `npm run bench`: the repository's stand-alone benchmarks, one after the other, each printing
 * its own table. `npm run bench -- native codecs` runs only those whose file name contains one
 * of the words. Scripted load runs that need extra tools (bench/*.sh, bench/tls-load.ts) are run
 * on their own, as their headers say.
 */
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
/** In order of running time, shortest first. */
const BENCHMARKS = ['proxy.ts', 'codecs.ts', 'observability-micro.ts', 'native.ts'];

const wanted = process.argv.slice(2);
for (const file of BENCHMARKS) {
  if (wanted.length > 0 && !wanted.some((word) => file.includes(word))) continue;
  console.log(`\n== bench/${file}\n`);
  execFileSync(process.execPath, ['--import', 'tsx', join(HERE, file)], { stdio: 'inherit' });
}
