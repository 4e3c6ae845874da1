import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Admin } from 'kafkajs';

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

/** `LO-HI` from the environment (the suite's ports on a shared box), or undefined. */
function portRange(name: string): [number, number] | undefined {
  const v = process.env[name];
  if (!v) return undefined;
  const m = /^(\d+)-(\d+)$/.exec(v.trim());
  if (!m || Number(m[1]) > Number(m[2])) throw new Error(`${name} must look like 7100-7199, got ${v}`);
  return [Number(m[1]), Number(m[2])];
}

/** `count` consecutive free ports inside `[lo, hi]`, tried from random starts; recorded in `taken`. */
async function freeBlock([lo, hi]: [number, number], count: number, taken = new Set<number>()): Promise<number[]> {
  const starts = hi - lo + 2 - count;
  if (starts < 1) throw new Error(`port range ${lo}-${hi} is smaller than ${count} ports`);
  for (let tries = 0; tries < 50; tries++) {
    const base = lo + Math.floor(Math.random() * starts);
    const ports = Array.from({ length: count }, (_, i) => base + i);
    if (ports.some((p) => taken.has(p)) || !(await portsFree(ports))) continue;
    for (const p of ports) taken.add(p);
    return ports;
  }
  throw new Error(`no ${count} consecutive free ports in ${lo}-${hi}`);
}

/** Java's String.hashCode: Kafka places a group on __consumer_offsets partition |hash| % partitions. */
function javaHash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(31, h) + s.charCodeAt(i)) | 0;
  return h;
}
/** scripts/kafka.sh (which scripts/cluster.sh runs per broker) sets offsets.topic.num.partitions=10. */
const OFFSETS_PARTITIONS = 10;

/** The broker coordinating `groupId`: the leader of its __consumer_offsets partition. */
export async function groupCoordinator(admin: Admin, groupId: string): Promise<number> {
  const meta = await admin.fetchTopicMetadata({ topics: ['__consumer_offsets'] });
  return meta.topics[0].partitions.find((p) => p.partitionId === Math.abs(javaHash(groupId)) % OFFSETS_PARTITIONS)!.leader;
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
    const redisRange = portRange('TETRAD_CLUSTER_REDIS_PORTS');
    const kafkaRange = portRange('TETRAD_CLUSTER_KAFKA_PORTS');
    if (redisRange || kafkaRange) {
      // Ranges given (a shared box hands each user its own): 12 Redis ports (6 nodes, then their 6
      // cluster bus ports) and 6 Kafka ports (3 brokers with controllers +1), each block consecutive.
      const redis = await freeBlock(redisRange ?? [20000, 25999], 12);
      const kafka = await freeBlock(kafkaRange ?? [26000, 31999], 6);
      this.redisPorts = redis.slice(0, 6);
      this.busPorts = redis.slice(6, 12);
      this.kafkaBase = kafka[0];
    } else {
      // 18 consecutive free ports (6 Redis, 6 cluster bus, 6 Kafka: 3 brokers with controllers +1),
      // below the ephemeral range (32768+) where outgoing connections could take one meanwhile.
      const ports = await freeBlock([20000, 31999], 18);
      this.redisPorts = ports.slice(0, 6);
      this.busPorts = ports.slice(6, 12);
      this.kafkaBase = ports[12];
    }
    await this.script('up', 300_000);
  }

  /** A free port for an app process: from TETRAD_CLUSTER_APP_PORTS when set, else one the OS picks (0). */
  async appPort(): Promise<number> {
    const range = portRange('TETRAD_CLUSTER_APP_PORTS');
    return range ? (await freeBlock(range, 1, this.takenAppPorts))[0] : 0;
  }
  private readonly takenAppPorts = new Set<number>();

  /** Starts again whatever node is not running (a killed primary rejoins as a replica). */
  async restartMissing(): Promise<void> {
    await this.script('up', 300_000);
  }

  /**
   * Stops everything: SIGKILL first (the data is thrown away, so a broker's controlled shutdown,
   * tens of seconds in a cluster, buys nothing), then the script's own `down` deletes the rest.
   */
  async down(): Promise<void> {
    const pids = [
      ...this.redisPorts.map((p) => join(this.dir, `redis-${p}`, 'pid')),
      ...[1, 2, 3].map((n) => join(this.dir, 'kafka', `node-${n}`, 'kafka.pid')),
    ];
    for (const f of pids) {
      try {
        process.kill(Number(readFileSync(f, 'utf8')), 'SIGKILL');
      } catch {
        /* not started, or already gone */
      }
    }
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

  kafkaPid(node: number): number {
    return Number(readFileSync(join(this.dir, 'kafka', `node-${node}`, 'kafka.pid'), 'utf8'));
  }

  /** SIGKILL of KRaft node `node` (1..3; its node.id in the cluster): broker and controller at once. */
  killKafka(node: number): void {
    process.kill(this.kafkaPid(node), 'SIGKILL');
  }
}
