import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { nodeOnlyPolicy, taskWritableDir } from '../../../../test/support/gpu-command-policy';
import { alive } from '../../../../test/support/processes';
import { CommandOrSimulatedExecutor, OutputTail, ProcessRunner } from './process-runner';
import { SimulatedRunner } from './simulated-runner';
import { RunSpec } from './task-executor';

const node = JSON.stringify(process.execPath);
const spec = (command: string, extra: Partial<RunSpec> = {}): RunSpec => ({
  taskId: 't1',
  attempt: 3,
  command,
  deviceIndices: [2, 5],
  predictedRuntimeSec: 1,
  ...extra,
});

const waitFor = async (check: () => boolean) => {
  while (!check()) await new Promise((r) => setTimeout(r, 20));
};

/** Task code that starts a long-sleeping child in its own process group, writes its pid, and waits or exits. */
const spawnsGrandchild = (pidFile: string, wait: boolean) =>
  `const c = require('child_process').spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' });` +
  `require('fs').writeFileSync(${JSON.stringify(pidFile)}, String(c.pid));` +
  (wait ? `setInterval(() => {}, 1000);` : `c.unref();`);

describe('ProcessRunner', () => {
  let dir: string;
  const policy = nodeOnlyPolicy();
  const runner = new ProcessRunner({ policy, killGraceMs: 5_000 });
  beforeEach(() => (dir = taskWritableDir('runner-')));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('runs shell-free with CUDA_VISIBLE_DEVICES, PCI order and the task identity, without agent secrets', async () => {
    const out = join(dir, 'env.json');
    const script = `require('fs').writeFileSync(${JSON.stringify(out)}, JSON.stringify({ d: process.env.CUDA_VISIBLE_DEVICES, o: process.env.CUDA_DEVICE_ORDER, t: process.env.TETRAD_TASK_ID, a: process.env.TETRAD_TASK_ATTEMPT, k: process.env.GPU_AGENT_API_KEY ?? null, p: process.ppid, m: process.env.TETRAD_GPU_MILLI, c: process.env.TETRAD_CPU_MILLI, mem: process.env.TETRAD_MEMORY_MIB }))`;
    const r = new ProcessRunner({ policy, killGraceMs: 1000, env: { ...process.env, GPU_AGENT_API_KEY: 'secret-key-1' } });
    await expect(r.start(spec(`${node} -e ${JSON.stringify(script)}`, { gpuMilli: 250, cpuMilli: 4000, memoryMib: 8192 })).done).resolves.toEqual({ kind: 'SUCCEEDED', exitCode: 0 });
    const seen = JSON.parse(readFileSync(out, 'utf8'));
    expect(seen).toMatchObject({ d: '2,5', o: 'PCI_BUS_ID', t: 't1', a: '3', k: null, m: '250', c: '4000', mem: '8192' });
    // Spawned directly: its parent is this process, not an intermediate shell.
    expect(seen.p).toBe(process.pid);
  });

  it('reports a non-zero exit with its code and the stderr tail', async () => {
    const outcome = await runner.start(spec(`${node} -e "console.error('out of memory on device 2'); process.exit(3)"`)).done;
    expect(outcome).toEqual({ kind: 'FAILED', exitCode: 3, reason: 'exit code 3: out of memory on device 2' });
  });

  it('never interprets shell syntax: the command fails with the reason and nothing runs', async () => {
    const marker = join(dir, 'marker');
    for (const cmd of [`${node} -e 1; touch ${marker}`, `${node} -e 1 && touch ${marker}`, `${node} -e 1 | tee ${marker}`, `${node} -e 1 > ${marker}`, `touch ${marker}`]) {
      const outcome = await runner.start(spec(cmd)).done;
      expect(outcome).toMatchObject({ kind: 'FAILED', reason: expect.stringMatching(/^command refused: /) });
      expect(outcome).not.toHaveProperty('exitCode');
    }
    expect(existsSync(marker)).toBe(false);
    expect((await runner.start(spec(`${node} -e 1; touch ${marker}`)).done)).toMatchObject({ reason: expect.stringContaining('shell syntax') });
  });

  it('runs only allow-listed executables', async () => {
    const marker = join(dir, 'marker');
    const outcome = await runner.start(spec(`/usr/bin/touch ${marker}`)).done;
    expect(outcome).toEqual({ kind: 'FAILED', reason: 'command refused: executable "/usr/bin/touch" is not on the agent\'s allow-list (GPU_AGENT_ALLOWED_COMMANDS)' });
    expect(existsSync(marker)).toBe(false);
    const none = new ProcessRunner({ policy: { ...policy, allowed: [] }, killGraceMs: 100 });
    await expect(none.start(spec(`${node} -e 1`)).done).resolves.toMatchObject({ kind: 'FAILED', reason: expect.stringContaining('GPU_AGENT_ALLOWED_COMMANDS is empty') });
  });

  it('never runs a command as root', async () => {
    const out = join(dir, 'uid');
    await expect(runner.start(spec(`${node} -e ${JSON.stringify(`require('fs').writeFileSync(${JSON.stringify(out)}, String(process.getuid()))`)}`)).done).resolves.toEqual({ kind: 'SUCCEEDED', exitCode: 0 });
    expect(Number(readFileSync(out, 'utf8'))).not.toBe(0);
    if (process.getuid?.() === 0) {
      expect(Number(readFileSync(out, 'utf8'))).toBe(65534); // nobody
      const asRoot = new ProcessRunner({ policy: { allowed: policy.allowed }, killGraceMs: 100 });
      await expect(asRoot.start(spec(`${node} -e 1`)).done).resolves.toMatchObject({ kind: 'FAILED', reason: expect.stringContaining('GPU_AGENT_RUN_AS_USER') });
    }
  });

  it('fails a command that cannot start', async () => {
    const missing = new ProcessRunner({ policy: { ...policy, allowed: ['/nonexistent/*'] }, killGraceMs: 100 });
    const outcome = await missing.start(spec('/nonexistent/binary --flag')).done;
    expect(outcome).toMatchObject({ kind: 'FAILED', reason: expect.stringMatching(/cannot start: .*ENOENT/) });
  });

  it('reports death by signal as 128 + signal number', async () => {
    const outcome = await runner.start(spec(`${node} -e "process.kill(process.pid, 'SIGKILL')"`)).done;
    expect(outcome).toEqual({ kind: 'FAILED', exitCode: 137, reason: 'killed by SIGKILL' });
  });

  it('cancel SIGTERMs the whole process group, including children of the task', async () => {
    const pids = join(dir, 'pids');
    // A task that starts a grandchild and waits: both must die on cancel.
    const run = runner.start(spec(`${node} -e ${JSON.stringify(spawnsGrandchild(pids, true))}`));
    await waitFor(() => {
      try {
        return readFileSync(pids, 'utf8').trim() !== '';
      } catch {
        return false;
      }
    });
    const grandchild = Number(readFileSync(pids, 'utf8').trim());
    expect(alive(grandchild)).toBe(true);
    run.cancel('user asked');
    await expect(run.done).resolves.toEqual({ kind: 'CANCELLED', reason: 'user asked' });
    await waitFor(() => !alive(grandchild));
  });

  it('SIGKILLs after the grace when the task ignores SIGTERM', async () => {
    const ready = join(dir, 'ready');
    const stubborn = `process.on('SIGTERM', () => {}); require('fs').writeFileSync(${JSON.stringify(ready)}, '1'); setInterval(() => {}, 1000)`;
    const run = runner.start(spec(`${node} -e ${JSON.stringify(stubborn)}`));
    await waitFor(() => {
      try {
        return readFileSync(ready, 'utf8') === '1';
      } catch {
        return false;
      }
    });
    run.cancel('stop', 100);
    await expect(run.done).resolves.toEqual({ kind: 'CANCELLED', reason: 'stop' });
  });

  it('kills what the task left running in its group when its main process exits', async () => {
    const pids = join(dir, 'pids');
    await runner.start(spec(`${node} -e ${JSON.stringify(spawnsGrandchild(pids, false))}`)).done;
    const orphan = Number(readFileSync(pids, 'utf8').trim());
    await waitFor(() => !alive(orphan));
  });
});

describe('OutputTail', () => {
  it('keeps only the last bytes and marks the cut', () => {
    const t = new OutputTail(5);
    t.push(Buffer.from('abc'));
    expect(t.text()).toBe('abc');
    t.push(Buffer.from('defgh'));
    expect(t.text()).toBe('…defgh');
    expect(t.total).toBe(8);
  });
});

describe('SimulatedRunner and CommandOrSimulatedExecutor', () => {
  it('simulates predictedRuntimeSec divided by the time scale', async () => {
    const sim = new SimulatedRunner(1000);
    expect(sim.durationMs(30)).toBe(30);
    await expect(sim.start(spec('', { predictedRuntimeSec: 0.05 })).done).resolves.toEqual({ kind: 'SUCCEEDED', exitCode: 0 });
    expect(() => new SimulatedRunner(0)).toThrow();
  });

  it('cancels a simulated run', async () => {
    const run = new SimulatedRunner(1).start(spec('', { predictedRuntimeSec: 3600 }));
    run.cancel('bye');
    await expect(run.done).resolves.toEqual({ kind: 'CANCELLED', reason: 'bye' });
  });

  it('runs the command when there is one, else simulates', async () => {
    const calls: string[] = [];
    const fake = (name: string) => ({
      start: () => {
        calls.push(name);
        return { done: Promise.resolve({ kind: 'SUCCEEDED' as const, exitCode: 0 }), cancel: () => undefined };
      },
    });
    const ex = new CommandOrSimulatedExecutor(fake('process'), fake('simulated'));
    await ex.start(spec('python x.py')).done;
    await ex.start(spec('  ')).done;
    await ex.start(spec('', { command: undefined })).done;
    expect(calls).toEqual(['process', 'simulated', 'simulated']);
  });
});
