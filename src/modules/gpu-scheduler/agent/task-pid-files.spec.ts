import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodeOnlyPolicy } from '../../../../test/support/gpu-command-policy';
import { alive } from '../../../../test/support/processes';
import { ProcessRunner } from './process-runner';
import { TaskPidFiles } from './task-pid-files';

const waitFor = async (check: () => boolean) => {
  while (!check()) await new Promise((r) => setTimeout(r, 20));
};
const sleeper = (env: NodeJS.ProcessEnv): ChildProcess =>
  spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { detached: true, stdio: 'ignore', env });

describe('TaskPidFiles', () => {
  let dir: string;
  const procs: ChildProcess[] = [];
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'pids-'))));
  afterEach(() => {
    for (const p of procs.splice(0)) if (p.pid && alive(p.pid)) process.kill(-p.pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('kills the process groups of recorded tasks that still run, and forgets every record', async () => {
    const files = new TaskPidFiles(join(dir, 'node'));
    const task = sleeper({ ...process.env, TETRAD_TASK_ID: 'task/1', TETRAD_TASK_ATTEMPT: '2' });
    // A pid that was reused by something else: its environment does not name the task.
    const stranger = sleeper({ ...process.env, TETRAD_TASK_ID: 'other', TETRAD_TASK_ATTEMPT: '2' });
    procs.push(task, stranger);
    files.record({ taskId: 'task/1', attempt: 2, pid: task.pid! });
    files.record({ taskId: 'task/9', attempt: 2, pid: stranger.pid! });
    files.record({ taskId: 'gone', attempt: 1, pid: 999_999_999 });
    await waitFor(() => readFileSync(`/proc/${task.pid}/environ`, 'utf8').includes('TETRAD_TASK_ID=task/1'));

    expect(files.reapLeftovers()).toEqual([{ taskId: 'task/1', attempt: 2, pid: task.pid }]);
    await waitFor(() => !alive(task.pid!));
    expect(alive(stranger.pid!)).toBe(true);
    expect(readdirSync(join(dir, 'node'))).toEqual([]);
  });

  it('has nothing to reap when no agent ran here before', () => {
    expect(new TaskPidFiles(join(dir, 'never')).reapLeftovers()).toEqual([]);
  });

  it('ProcessRunner keeps a record exactly while the task runs', async () => {
    const files = new TaskPidFiles(join(dir, 'node'));
    const runner = new ProcessRunner({ policy: nodeOnlyPolicy(), killGraceMs: 1000, pidFiles: files });
    const run = runner.start({ taskId: 't1', attempt: 1, command: `"${process.execPath}" -e "setTimeout(() => {}, 60000)"`, deviceIndices: [0], predictedRuntimeSec: 1 });
    const file = join(dir, 'node', 't1.1.json');
    expect(existsSync(file)).toBe(true);
    const { pid } = JSON.parse(readFileSync(file, 'utf8'));
    expect(alive(pid)).toBe(true);
    run.cancel();
    await run.done;
    expect(existsSync(file)).toBe(false);
  });
});
