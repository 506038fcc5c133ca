/**
 * A real HAProxy (Debian's package) for the scale-out test: the configuration docs/deploy.md
 * recommends, written to a temp dir with this run's ports, the process in the foreground, and
 * its runtime API (`show stat`) read over the stats socket to see each server's state.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';

/** One aionet instance as HAProxy sees it. */
export interface Backend {
  readonly name: string;
  readonly port: number;
  readonly metricsPort: number;
}

/** Health-check timing: every `interMs`, `fall` failures mark a server down. */
export interface CheckTiming {
  readonly interMs: number;
  readonly fall: number;
  readonly rise: number;
}

/** The HAProxy binary, or `undefined` when it is not installed. */
export function haproxyVersion(): string | undefined {
  const result = spawnSync('haproxy', ['-v'], { encoding: 'utf8' });
  if (result.error !== undefined || result.status !== 0) return undefined;
  return result.stdout.split('\n')[0];
}

/**
 * The configuration: TCP mode, round robin, the PROXY protocol v2 to every server, health
 * checks on aionet's `/healthz` (503 while draining), and connection retries that redispatch to
 * another server when the chosen one refuses (a draining or dead instance).
 */
export function haproxyConfig(options: {
  readonly port: number;
  readonly backends: readonly Backend[];
  readonly check: CheckTiming;
  readonly statsSocket: string;
  readonly proxy: boolean;
}): string {
  const { check } = options;
  const servers = options.backends.map(
    (b) =>
      `    server ${b.name} 127.0.0.1:${b.port} check port ${b.metricsPort}` +
      (options.proxy ? ' send-proxy-v2' : ''),
  );
  return `global
    maxconn 4096
    stats socket ${options.statsSocket} mode 600 level admin

defaults
    mode tcp
    timeout connect 1s
    timeout client 30s
    timeout server 30s
    timeout check 1s
    retries 3
    option redispatch 1

frontend ledger
    bind 127.0.0.1:${options.port}
    default_backend aionet

backend aionet
    balance roundrobin
    option httpchk
    http-check send meth GET uri /healthz
    http-check expect status 200
    default-server inter ${check.interMs}ms fall ${check.fall} rise ${check.rise}
${servers.join('\n')}
`;
}

/** A running HAProxy. */
export class HaproxyProcess {
  readonly child: ChildProcess;
  readonly #statsSocket: string;
  output = '';

  constructor(dir: string, config: string, statsSocket: string) {
    const file = join(dir, 'haproxy.cfg');
    writeFileSync(file, config);
    this.#statsSocket = statsSocket;
    this.child = spawn('haproxy', ['-db', '-f', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (chunk: Buffer) => {
      this.output += chunk.toString();
    });
    this.child.stderr!.on('data', (chunk: Buffer) => {
      this.output += chunk.toString();
    });
  }

  /** Each server's status (`UP`, `DOWN`, `UP 1/2`…) from `show stat`. */
  async status(): Promise<Map<string, string>> {
    const csv = await this.#command('show stat');
    const lines = csv.split('\n');
    const header = (lines[0] ?? '').replace(/^# /, '').split(',');
    const name = header.indexOf('svname');
    const status = header.indexOf('status');
    const result = new Map<string, string>();
    for (const line of lines.slice(1)) {
      const fields = line.split(',');
      const server = fields[name];
      if (server === undefined || server === 'FRONTEND' || server === 'BACKEND') continue;
      result.set(server, fields[status] ?? '');
    }
    return result;
  }

  stop(): void {
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }

  #command(command: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(this.#statsSocket);
      let text = '';
      socket.setEncoding('utf8');
      socket.on('connect', () => socket.write(`${command}\n`));
      socket.on('data', (chunk: string) => {
        text += chunk;
      });
      socket.on('error', reject);
      socket.on('close', () => resolve(text));
    });
  }
}
