import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommandPolicy, resolveRunAs } from '../../src/modules/gpu-scheduler/agent/command-policy';

/**
 * The policy tests run real task commands under: only this Node binary may run, as `nobody` when the
 * test runs as root (agents refuse to run commands as root), else as the test's own user.
 */
export function nodeOnlyPolicy(): CommandPolicy {
  const uid = process.getuid?.() ?? -1;
  return { allowed: [process.execPath], runAs: uid === 0 ? resolveRunAs('nobody', uid, true) : undefined };
}

/** A temporary directory the task user (possibly `nobody`) can write into. */
export function taskWritableDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(dir, 0o777);
  return dir;
}
