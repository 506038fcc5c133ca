/**
 * External programs the interop tests run against (openssl, socat, haproxy): found on PATH, or
 * the test skips with a clear message — except in CI (CI=true), where `.ci/run` installs them
 * and a missing one is a failure, not a silent skip.
 */
import { execFileSync } from 'node:child_process';

/** `false` when `name` is on PATH; else why the tests that need it skip. Throws in CI. */
export function toolSkip(name: string): string | false {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
    return false;
  } catch {
    const reason = `${name} not installed (apt-get install ${name}; .ci/run does)`;
    if (process.env.CI === 'true') throw new Error(`CI needs ${reason}`);
    return reason;
  }
}
