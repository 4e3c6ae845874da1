import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface PidRecord {
  taskId: string;
  attempt: number;
  pid: number;
}

/**
 * One small file per running task process, so an agent that was killed and comes back can stop
 * what its previous life left running: the scheduler has already failed or requeued those tasks
 * (heartbeat timeout), and their processes would otherwise hold the GPUs until they end by
 * themselves. Task processes lead their own process group, so the group is what gets killed.
 */
export class TaskPidFiles {
  constructor(readonly dir: string) {}

  private file(taskId: string, attempt: number): string {
    return join(this.dir, `${encodeURIComponent(taskId)}.${attempt}.json`);
  }

  record(r: PidRecord): void {
    mkdirSync(this.dir, { recursive: true });
    writeFileSync(this.file(r.taskId, r.attempt), JSON.stringify(r));
  }

  remove(taskId: string, attempt: number): void {
    rmSync(this.file(taskId, attempt), { force: true });
  }

  /**
   * SIGKILLs the process group of every recorded task whose leader still runs, and forgets them
   * all. A pid is only trusted when the process's environment still names the task (pids are
   * reused), which needs /proc; without it nothing is killed.
   */
  reapLeftovers(): PidRecord[] {
    let names: string[];
    try {
      names = readdirSync(this.dir).filter((f) => f.endsWith('.json'));
    } catch {
      return [];
    }
    const killed: PidRecord[] = [];
    for (const name of names) {
      const path = join(this.dir, name);
      try {
        const r = JSON.parse(readFileSync(path, 'utf8')) as PidRecord;
        if (Number.isInteger(r.pid) && r.pid > 1 && isTaskProcess(r)) {
          process.kill(-r.pid, 'SIGKILL');
          killed.push(r);
        }
      } catch {
        /* unreadable record or the group is gone: nothing to kill */
      }
      rmSync(path, { force: true });
    }
    return killed;
  }
}

function isTaskProcess(r: PidRecord): boolean {
  try {
    const env = readFileSync(`/proc/${r.pid}/environ`, 'utf8').split('\0');
    return env.includes(`TETRAD_TASK_ID=${r.taskId}`) && env.includes(`TETRAD_TASK_ATTEMPT=${r.attempt}`);
  } catch {
    return false;
  }
}
