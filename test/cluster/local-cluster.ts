import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = join(__dirname, '..', '..');

async function portsFree(ports: number[]): Promise<boolean> {
  for (const port of ports) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(false));
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
    });
    if (!ok) return false;
  }
  return true;
}

export interface ClusterNode {
  id: string;
  port: number;
  role: 'master' | 'slave';
  /** Slot ranges a primary serves. */
  slots: [number, number][];
  connected: boolean;
  failed: boolean;
}

/**
 * The project's own local cluster (scripts/cluster.sh) on ports nobody else uses: six redis-server
 * processes forming a Redis Cluster (3 primaries + 3 replicas) and three KRaft brokers, all in a
 * temporary directory, stopped and deleted by `down`.
 */
export class LocalCluster {
  readonly dir = mkdtempSync(join(tmpdir(), 'tetrad-cluster-'));
  redisPorts: number[] = [];
  private busPorts: number[] = [];
  kafkaBase = 0;

  private env(): NodeJS.ProcessEnv {
    return {
      ...process.env,
      CLUSTER_DIR: this.dir,
      REDIS_CLUSTER_PORTS: this.redisPorts.join(','),
      REDIS_CLUSTER_BUS_PORTS: this.busPorts.join(','),
      CLUSTER_KAFKA_PORT: String(this.kafkaBase),
    };
  }

  private script(cmd: string, timeoutMs: number) {
    return run('bash', [join(ROOT, 'scripts/cluster.sh'), cmd], { cwd: ROOT, env: this.env(), timeout: timeoutMs });
  }

  async up(): Promise<void> {
    // 18 consecutive free ports (6 Redis, 6 cluster bus, 6 Kafka: 3 brokers with controllers +1),
    // below the ephemeral range (32768+) where outgoing connections could take one meanwhile.
    for (let tries = 0; tries < 50 && this.kafkaBase === 0; tries++) {
      const base = 20000 + 2 * Math.floor(Math.random() * 6000);
      const ports = Array.from({ length: 18 }, (_, i) => base + i);
      if (!(await portsFree(ports))) continue;
      this.redisPorts = ports.slice(0, 6);
      this.busPorts = ports.slice(6, 12);
      this.kafkaBase = base + 12;
    }
    if (this.kafkaBase === 0) throw new Error('no 18 consecutive free ports found');
    await this.script('up', 300_000);
  }

  /** Starts again whatever node is not running (a killed primary rejoins as a replica). */
  async restartMissing(): Promise<void> {
    await this.script('up', 300_000);
  }

  async down(): Promise<void> {
    await this.script('down', 120_000).catch(() => undefined);
  }

  get redisNodes(): string {
    return this.redisPorts.map((p) => `127.0.0.1:${p}`).join(',');
  }

  get kafkaBrokers(): string[] {
    return [0, 2, 4].map((d) => `127.0.0.1:${this.kafkaBase + d}`);
  }

  /** CLUSTER NODES as seen by a live node. */
  async nodes(): Promise<ClusterNode[]> {
    for (const port of this.redisPorts) {
      try {
        const { stdout } = await run('redis-cli', ['-p', String(port), 'cluster', 'nodes'], { timeout: 3000 });
        return stdout
          .trim()
          .split('\n')
          .map((line) => {
            const f = line.split(' ');
            const flags = f[2].split(',');
            return {
              id: f[0],
              port: Number(f[1].split('@')[0].split(':')[1]),
              role: flags.includes('master') ? 'master' : 'slave',
              slots: f.slice(8).filter((s) => /^\d/.test(s)).map((s) => {
                const [a, b] = s.split('-').map(Number);
                return [a, b ?? a] as [number, number];
              }),
              connected: f[7] === 'connected',
              failed: flags.includes('fail') || flags.includes('fail?'),
            };
          });
      } catch {
        /* that node is down: ask the next */
      }
    }
    throw new Error('no Redis Cluster node answers');
  }

  async primaryOf(slot: number): Promise<ClusterNode | undefined> {
    return (await this.nodes()).find((n) => n.role === 'master' && !n.failed && n.slots.some(([a, b]) => slot >= a && slot <= b));
  }

  /** SIGKILL: no shutdown, no final sync to the replica. */
  killRedis(port: number): void {
    process.kill(Number(readFileSync(join(this.dir, `redis-${port}`, 'pid'), 'utf8')), 'SIGKILL');
  }

  kafkaPid(node: 1 | 2 | 3): number {
    return Number(readFileSync(join(this.dir, 'kafka', `node-${node}`, 'kafka.pid'), 'utf8'));
  }
}
