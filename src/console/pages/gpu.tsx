import { Component } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, follow, Role, StreamState } from '../api';
import { ErrorNote, fmt, Legend, LiveBadge, message, Section, Stat } from '../ui';

interface GridNode {
  id: string;
  gpuType: string;
  status: 'ACTIVE' | 'DRAINING' | 'MAINTENANCE' | 'UNHEALTHY';
  gpuCount: number;
  freeGpuIndices: number[];
  tasks: (string | null)[];
}
interface Capacity {
  total: number;
  free: number;
  used: number;
  utilization: number;
}
interface Cluster {
  gpus: Capacity;
  gpuTypes: Record<string, Capacity & { nodes: number }>;
  queues: { vip: { length: number; oldestWaitSec: number }; normal: { length: number; oldestWaitSec: number } };
  quota: { windowSec: number; targetVipShare: number; vipShare: number | null; vipGpuHours: number; normalGpuHours: number };
}
interface RecentTask {
  taskId: string;
  userId: string;
  tier: string;
  status: string;
  gpuCount: number;
  at: string;
  reason: string | null;
}

const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED']);

/** Keeps the previous object of every node that did not change, so only changed rows re-render. */
function reuseUnchanged(old: GridNode[], next: GridNode[]): GridNode[] {
  const byId = new Map(old.map((n) => [n.id, n]));
  return next.map((n) => {
    const o = byId.get(n.id);
    return o && o.status === n.status && o.tasks.join() === n.tasks.join() && o.freeGpuIndices.join() === n.freeGpuIndices.join() ? o : n;
  });
}

export function GpuPage(_: { role: Role }) {
  const [nodes, setNodes] = useState<GridNode[]>([]);
  const [cluster, setCluster] = useState<Cluster>();
  const [recent, setRecent] = useState<RecentTask[]>([]);
  const [state, setState] = useState<StreamState>('connecting');
  useEffect(
    () =>
      follow(
        '/gpu/cluster/stream',
        {
          grid: (g: { nodes: GridNode[] }) => {
            const t0 = performance.now();
            setNodes((old) => reuseUnchanged(old, g.nodes));
            // Measured by the e2e suite and the console bench: from a grid event to its paint.
            requestAnimationFrame(() => {
              const box = document.getElementById('gpu-grid');
              if (box) box.dataset.renderMs = (performance.now() - t0).toFixed(1);
            });
          },
          cluster: setCluster,
          tasks: (t: { items: RecentTask[] }) => setRecent(t.items),
        },
        setState,
      ),
    [],
  );
  const types = [...new Set(nodes.map((n) => n.gpuType))];
  return (
    <>
      <div class="row">
        <LiveBadge state={state} />
      </div>
      <Summary cluster={cluster} />
      <Section title="Nodes and GPUs">
        <Legend items={[['free', 'gpu-free'], ['used', 'gpu-used'], ['draining', 'gpu-draining'], ['unhealthy', 'gpu-unhealthy']]} />
        <Grid nodes={nodes} />
      </Section>
      <div class="two">
        <SubmitTask gpuTypes={types} />
        <RecentTasks items={recent} />
      </div>
    </>
  );
}

function Summary({ cluster }: { cluster?: Cluster }) {
  if (!cluster) return null;
  const q = cluster.quota;
  return (
    <Section title="Capacity, queues and quota">
      <div class="stats">
        <Stat label="GPUs used" value={`${fmt.int(cluster.gpus.used)} / ${fmt.int(cluster.gpus.total)}`} note={fmt.pct(cluster.gpus.utilization, 1)} />
        <Stat label="GPUs free" value={fmt.int(cluster.gpus.free)} />
        <Stat label="VIP queue" value={fmt.int(cluster.queues.vip.length)} note={`oldest waits ${fmt.secs(cluster.queues.vip.oldestWaitSec)}`} />
        <Stat label="Normal queue" value={fmt.int(cluster.queues.normal.length)} note={`oldest waits ${fmt.secs(cluster.queues.normal.oldestWaitSec)}`} />
        <Stat
          label={`VIP share (${fmt.secs(q.windowSec)} window)`}
          value={fmt.pct(q.vipShare, 1)}
          note={
            <>
              target {fmt.pct(q.targetVipShare, 0)}{' '}
              <meter min={0} max={1} value={q.vipShare ?? 0} optimum={q.targetVipShare} aria-label={`VIP share ${fmt.pct(q.vipShare, 1)} against a target of ${fmt.pct(q.targetVipShare, 0)}`} />
            </>
          }
        />
      </div>
    </Section>
  );
}

function gpuState(n: GridNode, i: number): 'free' | 'used' | 'draining' | 'unhealthy' {
  if (n.status === 'UNHEALTHY') return 'unhealthy';
  if (n.tasks[i] || !n.freeGpuIndices.includes(i)) return 'used';
  return n.status === 'ACTIVE' ? 'free' : 'draining';
}

/**
 * One node's row; re-renders only when the node object changed (see reuseUnchanged). Rows are
 * ARIA table rows laid out as independent CSS grids with `content-visibility: auto`, so a change
 * lays out one row, and rows scrolled out of view are not laid out or painted at all (an HTML
 * table of 8,000 cells re-lays out as a whole).
 */
class NodeRow extends Component<{ node: GridNode; width: number }> {
  override shouldComponentUpdate(next: { node: GridNode; width: number }) {
    return next.node !== this.props.node || next.width !== this.props.width;
  }
  override render() {
    const { node: n, width } = this.props;
    const cells = [];
    for (let i = 0; i < width; i++) {
      if (i >= n.gpuCount) {
        cells.push(<span key={i} role="cell" class="gpu gpu-none" />);
        continue;
      }
      const s = gpuState(n, i);
      const task = n.tasks[i];
      cells.push(
        <span key={i} role="cell" class={`gpu gpu-${s}`} data-task={task ?? undefined} title={`${n.id} GPU ${i}: ${s}${task ? `, task ${task}` : ''}`}>
          <span aria-hidden="true">{task ? task.slice(-4) : s === 'free' ? '' : s[0]}</span>
          <span class="sr-only">{task ? `task ${task}` : s}</span>
        </span>,
      );
    }
    return (
      <div role="row" class="grid-row" data-node={n.id}>
        <span role="rowheader" class="grid-node">
          {n.id}
          <span class="node-meta">
            {n.gpuType}
            {n.status !== 'ACTIVE' ? ` · ${n.status.toLowerCase()}` : ''}
          </span>
        </span>
        {cells}
      </div>
    );
  }
}

function Grid({ nodes }: { nodes: GridNode[] }) {
  const width = nodes.reduce((m, n) => Math.max(m, n.gpuCount), 0);
  if (nodes.length === 0) return <p class="hint">No nodes registered.</p>;
  return (
    <div class="scroll grid-scroll">
      <div id="gpu-grid" class="grid" style={{ '--gpus': String(width) }} role="table" aria-label="Nodes and their GPUs: each row is a node, each cell one of its GPUs with the task on it" data-nodes={nodes.length}>
        <div role="rowgroup">
          <div role="row" class="grid-row grid-head">
            <span role="columnheader" class="grid-node">
              Node
            </span>
            {Array.from({ length: width }, (_, i) => (
              <span role="columnheader" key={i}>
                {i}
              </span>
            ))}
          </div>
        </div>
        <div role="rowgroup">
          {nodes.map((n) => (
            <NodeRow key={n.id} node={n} width={width} />
          ))}
        </div>
      </div>
    </div>
  );
}

function SubmitTask({ gpuTypes }: { gpuTypes: string[] }) {
  const [form, setForm] = useState({ userId: 'console-user', tier: 'normal', gpuType: '', gpuCount: 1, gpuMemoryGb: 16, estimatedRuntimeSec: 600 });
  const [note, setNote] = useState<string>();
  const [error, setError] = useState<string>();
  const type = form.gpuType || gpuTypes[0] || '';
  const set = (k: keyof typeof form, numeric = false) => (e: Event) => {
    const v = (e.target as HTMLInputElement).value;
    setForm({ ...form, [k]: numeric ? Number(v) : v });
  };
  const submit = async (e: Event) => {
    e.preventDefault();
    try {
      const r = await api<{ taskId: string }>('POST', '/tasks', { body: { ...form, gpuType: type }, headers: { 'idempotency-key': crypto.randomUUID() } });
      setNote(`queued ${r.taskId}`);
      setError(undefined);
    } catch (err) {
      setError(message(err));
      setNote(undefined);
    }
  };
  return (
    <Section title="Submit a task">
      <form class="form" onSubmit={submit}>
        <label for="t-user">User</label>
        <input id="t-user" required value={form.userId} onInput={set('userId')} />
        <label for="t-tier">Tier</label>
        <select id="t-tier" value={form.tier} onChange={set('tier')}>
          <option value="normal">normal</option>
          <option value="vip">vip</option>
        </select>
        <label for="t-type">GPU type</label>
        <select id="t-type" value={type} onChange={set('gpuType')}>
          {gpuTypes.map((t) => (
            <option key={t}>{t}</option>
          ))}
        </select>
        <label for="t-count">GPUs</label>
        <input id="t-count" type="number" min={1} max={64} required value={form.gpuCount} onInput={set('gpuCount', true)} />
        <label for="t-mem">GPU memory (GB)</label>
        <input id="t-mem" type="number" min={1} required value={form.gpuMemoryGb} onInput={set('gpuMemoryGb', true)} />
        <label for="t-run">Estimated runtime (s)</label>
        <input id="t-run" type="number" min={1} required value={form.estimatedRuntimeSec} onInput={set('estimatedRuntimeSec', true)} />
        <button type="submit">Submit</button>
      </form>
      <p role="status" aria-live="polite" class="hint" id="submit-note">
        {note}
      </p>
      <ErrorNote error={error} />
    </Section>
  );
}

function RecentTasks({ items }: { items: RecentTask[] }) {
  const [error, setError] = useState<string>();
  const cancel = async (taskId: string) => {
    try {
      await api('DELETE', `/tasks/${encodeURIComponent(taskId)}`);
      setError(undefined);
    } catch (err) {
      setError(message(err));
    }
  };
  return (
    <Section title="Recent task events">
      <ErrorNote error={error} />
      <div class="scroll">
        <table id="recent-tasks">
          <thead>
            <tr>
              <th scope="col">Task</th>
              <th scope="col">State</th>
              <th scope="col">User · tier · GPUs</th>
              <th scope="col">At</th>
              <th scope="col">
                <span class="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {items.map((t) => (
              <tr key={t.taskId} data-task={t.taskId} data-status={t.status}>
                <th scope="row">
                  <code title={t.taskId}>{t.taskId.slice(-8)}</code>
                </th>
                <td>
                  {t.status.toLowerCase()}
                  {t.reason ? ` (${t.reason})` : ''}
                </td>
                <td>
                  {t.userId} · {t.tier} · {t.gpuCount}
                </td>
                <td>{fmt.time(t.at)}</td>
                <td>
                  {TERMINAL.has(t.status) ? null : (
                    <button type="button" class="small" onClick={() => void cancel(t.taskId)} aria-label={`cancel task ${t.taskId}`}>
                      Cancel
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </Section>
  );
}
