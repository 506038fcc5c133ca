// Builds the native transport's addon at `npm install` / `npm ci` with npm's own node-gyp,
// against the headers of the Node that runs the install (nothing is downloaded). A failed build
// never fails the install: aionet then uses the `net` transport, and says so once at run time.
// The compiler's output goes to native/build.log.
import { spawnSync } from 'node:child_process';
import { existsSync, openSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const log = join(here, 'build.log');

function skip(reason) {
  console.log(`aionet: native transport not built (${reason}); the net transport will be used`);
  process.exit(0);
}

if (process.platform !== 'linux') skip(`no native poller for ${process.platform} yet`);
if (process.env.AIONET_NATIVE === 'off') skip('AIONET_NATIVE=off');

// npm puts its bundled node-gyp on PATH for install scripts and names it in npm_config_node_gyp.
const gypScript = process.env.npm_config_node_gyp;
const command = gypScript !== undefined && existsSync(gypScript) ? process.execPath : 'node-gyp';
const args = command === process.execPath ? [gypScript] : [];
args.push('rebuild', `--directory=${here}`);
// The headers that ship with this Node (Debian: /usr/include/node) spare node-gyp a download.
const prefix = dirname(dirname(process.execPath));
if (existsSync(join(prefix, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${prefix}`);

const out = openSync(log, 'w');
const result = spawnSync(command, args, { stdio: ['ignore', out, out] });
if (result.error !== undefined) skip(`cannot run node-gyp: ${result.error.message}`);
if (result.status !== 0) skip(`the build failed, see ${log}`);
console.log('aionet: native transport built');
