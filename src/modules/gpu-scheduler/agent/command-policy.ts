import { execFileSync } from 'node:child_process';
import { splitCommand } from './command-line';

/**
 * What a node agent is willing to run. A task's `command` comes from whoever holds a service key;
 * the agent is the last line of defence on the GPU machine, so it runs only executables the
 * operator listed (GPU_AGENT_ALLOWED_COMMANDS), never through a shell, never as root.
 */
export interface CommandPolicy {
  /** Absolute executable paths or globs (`*` and `?` never cross a `/`); empty = run nothing. */
  allowed: readonly string[];
  /** uid/gid the child runs as; undefined = the agent's own user (allowed only when it is not root). */
  runAs?: { uid: number; gid: number };
}

export type CommandCheck = { ok: true; argv: string[] } | { ok: false; reason: string };

/**
 * GPU_AGENT_ALLOWED_COMMANDS: comma-separated absolute paths or glob patterns over the executable
 * (the command's first word), e.g. `/usr/bin/python3,/opt/models/bin/*`. Throws on a relative entry:
 * a bare name would be resolved through PATH, which is not what an operator reviewed.
 */
export function parseAllowList(spec: string): string[] {
  const entries = spec
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  for (const e of entries) {
    if (!e.startsWith('/')) throw new Error(`GPU_AGENT_ALLOWED_COMMANDS entry ${JSON.stringify(e)} must be an absolute path or glob`);
  }
  return entries;
}

function globToRegExp(glob: string): RegExp {
  let re = '';
  for (const c of glob) {
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/**
 * Decides whether a command may run and returns its argv. Shell syntax is refused, not interpreted:
 * `a; b`, pipes, redirections, `$VAR` or globs would only mean something to /bin/sh, and no shell
 * runs task commands.
 */
export function checkCommand(command: string, allowed: readonly string[]): CommandCheck {
  const argv = splitCommand(command.trim());
  if (argv === null) {
    return { ok: false, reason: 'command refused: shell syntax (pipes, ;, &&, redirections, $, globs, ~) is not interpreted; agents run no shell' };
  }
  const exe = argv[0];
  if (allowed.length === 0) return { ok: false, reason: 'command refused: this agent runs no commands (GPU_AGENT_ALLOWED_COMMANDS is empty)' };
  if (!exe.startsWith('/') || exe.split('/').some((seg) => seg === '.' || seg === '..')) {
    return { ok: false, reason: `command refused: executable ${JSON.stringify(exe)} must be an absolute path without . or .. segments` };
  }
  if (!allowed.some((p) => globToRegExp(p).test(exe))) {
    return { ok: false, reason: `command refused: executable ${JSON.stringify(exe)} is not on the agent's allow-list (GPU_AGENT_ALLOWED_COMMANDS)` };
  }
  return { ok: true, argv };
}

/**
 * Resolves GPU_AGENT_RUN_AS_USER (a name, or `uid` / `uid:gid`) and enforces "never as root":
 * throws when the user is root, unknown, or unset while the agent itself is root and would run
 * commands. Names go through `id`, so users from NSS (LDAP, sssd) resolve like on the shell.
 */
export function resolveRunAs(user: string, agentUid: number, runsCommands: boolean): CommandPolicy['runAs'] {
  const u = user.trim();
  if (u === '') {
    if (agentUid === 0 && runsCommands) {
      throw new Error('the agent runs as root: set GPU_AGENT_RUN_AS_USER to an unprivileged user (task commands never run as root)');
    }
    return undefined;
  }
  let uid: number;
  let gid: number;
  const numeric = /^(\d+)(?::(\d+))?$/.exec(u);
  if (numeric) {
    uid = Number(numeric[1]);
    gid = Number(numeric[2] ?? numeric[1]);
  } else {
    // coreutils' id lives in /usr/bin or /bin even when the agent's PATH leaves them out.
    const opts = { encoding: 'utf8' as const, stdio: ['ignore', 'pipe', 'ignore'] as ['ignore', 'pipe', 'ignore'], env: { PATH: `${process.env.PATH ?? ''}:/usr/bin:/bin` } };
    try {
      uid = Number(execFileSync('id', ['-u', '--', u], opts).trim());
      gid = Number(execFileSync('id', ['-g', '--', u], opts).trim());
    } catch {
      throw new Error(`GPU_AGENT_RUN_AS_USER ${JSON.stringify(u)} is not a known user`);
    }
  }
  if (uid === 0 || gid === 0) throw new Error(`GPU_AGENT_RUN_AS_USER ${JSON.stringify(u)} is root (uid or gid 0): task commands never run as root`);
  return { uid, gid };
}
