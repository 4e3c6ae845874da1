import { ChildProcess, spawn } from 'node:child_process';
import { constants } from 'node:os';
import { checkCommand, CommandPolicy } from './command-policy';
import { TaskPidFiles } from './task-pid-files';
import { RunningTask, RunSpec, settleOnce, TaskExecutor, TaskOutcome } from './task-executor';

export interface AgentLog {
  log(message: string): void;
  warn(message: string): void;
  debug?(message: string): void;
}

/** Keeps the last `max` bytes of a stream: enough to explain a failure, bounded however chatty the task. */
export class OutputTail {
  private buf = Buffer.alloc(0);
  total = 0;

  constructor(private readonly max: number) {}

  push(chunk: Buffer): void {
    this.total += chunk.length;
    this.buf = Buffer.concat([this.buf, chunk]);
    if (this.buf.length > this.max) this.buf = this.buf.subarray(this.buf.length - this.max);
  }

  text(): string {
    const s = this.buf.toString('utf8');
    return this.total > this.buf.length ? `…${s}` : s;
  }
}

/** Agent secrets the task must not inherit (the rest of the agent's environment is the task's). */
const HIDDEN_ENV = ['API_KEYS', 'GPU_AGENT_API_KEY', 'TICKETING_WEBHOOK_SECRETS', 'DATABASE_URL', 'REDIS_URL'];
/** Bytes of stdout and of stderr kept for logs and failure reasons. */
const TAIL_BYTES = 4096;

export interface ProcessRunnerOptions {
  /** Which executables may run, and as whom (see command-policy.ts). */
  policy: CommandPolicy;
  /** SIGTERM → SIGKILL grace on cancel. */
  killGraceMs: number;
  env?: NodeJS.ProcessEnv;
  log?: AgentLog;
  /** Records running task pids, so a restarted agent can stop what its previous life left running. */
  pidFiles?: TaskPidFiles;
}

/**
 * Runs a task's command as a child process in its own process group (detached), so cancel can
 * signal everything the task started (SIGTERM, then SIGKILL after the grace) and leftovers are
 * killed when the main process exits: the GPUs are free only when nothing of the task is left.
 * Only commands the policy allows run, spawned directly (never through a shell) as the policy's
 * user; anything else ends FAILED with the reason, without a process.
 */
export class ProcessRunner implements TaskExecutor {
  constructor(private readonly opts: ProcessRunnerOptions) {}

  start(spec: RunSpec): RunningTask {
    const command = (spec.command ?? '').trim();
    if (command === '') throw new Error('ProcessRunner needs a command');
    const label = `task ${spec.taskId}#${spec.attempt}`;
    const check = checkCommand(command, this.opts.policy.allowed);
    if (!check.ok) return this.refuse(label, check.reason);
    const runAs = this.opts.policy.runAs;
    // Second check of "never as root" (AgentService refuses to start that way): a runner built without a user.
    if (runAs === undefined && process.getuid?.() === 0) {
      return this.refuse(label, 'command refused: the agent is root and no unprivileged user is configured (GPU_AGENT_RUN_AS_USER)');
    }
    const argv = check.argv;
    const env: NodeJS.ProcessEnv = { ...(this.opts.env ?? process.env) };
    for (const k of HIDDEN_ENV) delete env[k];
    Object.assign(env, {
      CUDA_VISIBLE_DEVICES: spec.deviceIndices.join(','),
      // CUDA's default order (fastest first) differs from nvidia-smi's indices; PCI order matches them.
      CUDA_DEVICE_ORDER: 'PCI_BUS_ID',
      TETRAD_TASK_ID: spec.taskId,
      TETRAD_TASK_ATTEMPT: String(spec.attempt),
      // The share, for the task (or its framework) to honour: nothing here enforces it (no MPS/MIG, no cgroups).
      TETRAD_GPU_MILLI: String(spec.gpuMilli ?? 1000),
      ...(spec.cpuMilli !== undefined ? { TETRAD_CPU_MILLI: String(spec.cpuMilli) } : {}),
      ...(spec.memoryMib !== undefined ? { TETRAD_MEMORY_MIB: String(spec.memoryMib) } : {}),
    });
    const out = new OutputTail(TAIL_BYTES);
    const err = new OutputTail(TAIL_BYTES);

    let cancelled: string | undefined;
    let killTimer: NodeJS.Timeout | undefined;
    const { done, finish, settled } = settleOnce((o) => {
      clearTimeout(killTimer);
      this.opts.pidFiles?.remove(spec.taskId, spec.attempt);
      const tail = err.text() || out.text();
      if (o.kind === 'FAILED') this.opts.log?.warn(`${label}: ${o.reason}${tail ? `; output tail: ${tail}` : ''}`);
      else this.opts.log?.debug?.(`${label}: ${o.kind}; ${out.total} bytes stdout, ${err.total} bytes stderr`);
    });

    let child: ChildProcess;
    try {
      // With uid/gid, libuv also drops the agent's supplementary groups (setgroups) in the child.
      child = spawn(argv[0], argv.slice(1), {
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
        env,
        // as another user the agent's working directory may be out of reach: `/` then
        cwd: runAs ? '/' : undefined,
        ...(runAs ? { uid: runAs.uid, gid: runAs.gid } : {}),
      });
    } catch (e) {
      finish({ kind: 'FAILED', reason: `cannot start: ${(e as Error).message}` });
      return { done, cancel: () => undefined };
    }
    if (child.pid !== undefined) {
      try {
        this.opts.pidFiles?.record({ taskId: spec.taskId, attempt: spec.attempt, pid: child.pid });
      } catch (e) {
        this.opts.log?.warn(`${label}: pid not recorded: ${(e as Error).message}`);
      }
    }
    child.stdout?.on('data', (d: Buffer) => out.push(d));
    child.stderr?.on('data', (d: Buffer) => err.push(d));

    const signalGroup = (signal: NodeJS.Signals) => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, signal);
      } catch {
        /* ESRCH: the group is already gone */
      }
    };

    child.once('error', (e) => finish({ kind: 'FAILED', reason: `cannot start: ${e.message}` }));
    child.once('exit', (code, signal) => {
      // The main process is gone; whatever it left in its group must not keep using the GPUs.
      signalGroup('SIGKILL');
      const outcome = toOutcome(code, signal, cancelled, err.text());
      // Wait for the pipes to drain so the tail is complete, but not for a grandchild that escaped
      // the group (setsid) while holding them.
      const fallback = setTimeout(() => finish(outcome), 2000);
      fallback.unref();
      child.once('close', () => {
        clearTimeout(fallback);
        finish(outcome);
      });
    });

    return {
      done,
      cancel: (reason = 'cancelled', graceMs = this.opts.killGraceMs) => {
        if (settled() || cancelled !== undefined) return;
        cancelled = reason;
        signalGroup('SIGTERM');
        killTimer = setTimeout(() => signalGroup('SIGKILL'), graceMs);
        killTimer.unref();
      },
    };
  }

  /** A run that never started: FAILED with the reason, which the agent reports to the scheduler. */
  private refuse(label: string, reason: string): RunningTask {
    this.opts.log?.warn(`${label}: ${reason}`);
    return { done: Promise.resolve({ kind: 'FAILED', reason }), cancel: () => undefined };
  }
}

function toOutcome(code: number | null, signal: NodeJS.Signals | null, cancelled: string | undefined, stderr: string): TaskOutcome {
  if (cancelled !== undefined) return { kind: 'CANCELLED', reason: cancelled };
  if (code === 0) return { kind: 'SUCCEEDED', exitCode: 0 };
  const exitCode = code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0);
  const why = code !== null ? `exit code ${code}` : `killed by ${signal}`;
  const tail = stderr.trim().slice(-300);
  return { kind: 'FAILED', exitCode, reason: tail ? `${why}: ${tail}` : why };
}

/**
 * A real agent's executor: the command when there is one, a simulated run of the predicted length
 * when there is none.
 */
export class CommandOrSimulatedExecutor implements TaskExecutor {
  constructor(
    private readonly process: TaskExecutor,
    private readonly simulated: TaskExecutor,
  ) {}

  start(spec: RunSpec): RunningTask {
    return (spec.command ?? '').trim() !== '' ? this.process.start(spec) : this.simulated.start(spec);
  }
}
