/**
 * Runs the `aionet` command as a child process, the way users run it, and watches its output.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../bin/aionet.js', import.meta.url));

/** A running `aionet` process with its output collected line by line. */
export class CliProcess {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  /** Resolves with the exit code (or the signal name) when the process ends. */
  readonly exited: Promise<number | string>;

  constructor(args: string[], options: { shell?: string } = {}) {
    this.child =
      options.shell === undefined
        ? spawn(process.execPath, [BIN, ...args], { stdio: ['pipe', 'pipe', 'pipe'] })
        : spawn(
            'bash',
            ['-c', `${options.shell}; exec "$0" "$@"`, process.execPath, BIN, ...args],
            {
              stdio: ['pipe', 'pipe', 'pipe'],
            },
          );
    this.child.stdout!.setEncoding('utf8').on('data', (text: string) => {
      this.stdout += text;
    });
    this.child.stderr!.setEncoding('utf8').on('data', (text: string) => {
      this.stderr += text;
    });
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'));
    });
  }

  /** Resolves with the first stdout line matching `pattern`. */
  async waitForLine(pattern: RegExp, timeoutMs = 10_000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (const line of this.stdout.split('\n')) {
        const match = line.match(pattern);
        if (match !== null) return match;
      }
      if (this.child.exitCode !== null || Date.now() > deadline) {
        throw new Error(`no line matching ${pattern}; stdout=${this.stdout} stderr=${this.stderr}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /** Starts `aionet serve` on a free port and resolves once it serves, with that port. */
  static async serve(args: string[] = [], options: { shell?: string } = {}) {
    const cli = new CliProcess(['serve', '--host', '127.0.0.1', '--port', '0', ...args], options);
    const match = await cli.waitForLine(
      /^Serving on 127\.0\.0\.1:(\d+) \((?:native|net) transport\)$/,
    );
    return { cli, port: Number(match[1]) };
  }

  /** Runs to completion; resolves with the exit code and output. */
  static async run(args: string[], input?: string) {
    const cli = new CliProcess(args);
    cli.child.stdin!.end(input ?? '');
    const code = await cli.exited;
    return { code, stdout: cli.stdout, stderr: cli.stderr };
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.child.exitCode === null) this.child.kill(signal);
  }
}
