import { mkdirSync, readFileSync } from 'fs';
import { tmpdir } from 'os';
import { dirname, join, resolve } from 'path';
import { DataSource } from 'typeorm';
import { Worker } from 'worker_threads';
import { loadEntities, loadMigrations } from './loader';
import { SqlDatabase } from './sql-database';

/**
 * Runs inside a worker thread, as plain JS so the same string works from ts (jest) and dist.
 * Why a worker: PGlite's CJS build loads node builtins with dynamic import(), which jest's VM
 * refuses without --experimental-vm-modules; and its WASM engine runs queries synchronously, so
 * off the main thread it never stalls the API's event loop.
 */
const WORKER = `
const fs = require('fs');
const { parentPort, workerData } = require('worker_threads');
const { PGlite } = require(workerData.pglite);
const { PGLiteSocketServer } = require(workerData.socket);

// initdb costs ~10 s in WASM and an in-memory database repeats it on every boot (every test app),
// so the first memory boot saves its fresh cluster as a template and later ones load that (~1.5 s).
async function create() {
  const { dataDir, template } = workerData;
  if (dataDir) return PGlite.create(dataDir);
  try {
    const tar = new File([fs.readFileSync(template)], 'pgdata.tar.gz', { type: 'application/x-gzip' });
    return await PGlite.create({ loadDataDir: tar });
  } catch {
    // no template yet, or an unreadable one: build the cluster and (re)write the template
  }
  const db = await PGlite.create();
  try {
    const dump = await db.dumpDataDir('gzip');
    const tmp = template + '.' + process.pid + '.' + Date.now();
    fs.writeFileSync(tmp, Buffer.from(await dump.arrayBuffer()));
    fs.renameSync(tmp, template); // atomic: parallel test workers never read a half-written file
  } catch {
    // a template is an optimisation only
  }
  return db;
}

(async () => {
  const db = await create();
  // Every connection shares PGlite's single session; the pool uses one, the spare slot only
  // absorbs a reconnect racing the old socket's close.
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 2 });
  await server.start();
  parentPort.on('message', async () => {
    try { await server.stop(); await db.close(); } finally { parentPort.postMessage({ closed: true }); }
  });
  parentPort.postMessage({ listening: server.getServerConn() });
})().catch((e) => parentPort.postMessage({ error: String((e && e.stack) || e) }));
`;

/** Keyed by the PGlite version: a cluster from another Postgres build must never be loaded. */
function templateFile(): string {
  const pkg = join(dirname(require.resolve('@electric-sql/pglite')), '..', 'package.json');
  const { version } = JSON.parse(readFileSync(pkg, 'utf8')) as { version: string };
  return join(tmpdir(), `tetrad-pglite-${version}-initdb.tar.gz`);
}

/**
 * Embedded profile: PGlite (PostgreSQL compiled to WASM) behind its wire-protocol socket server,
 * reached through the ordinary TypeORM postgres driver, so queries and migrations are the very
 * ones the full profile runs.
 */
export class PgliteSqlDatabase extends SqlDatabase {
  readonly name = 'pglite' as const;
  private ds: DataSource | undefined;
  private worker: Worker | undefined;
  private readonly dataDir: string | undefined;

  /** `dataDir`: the app's DATA_DIR; files go to DATA_DIR/pglite, and `memory` keeps nothing on disk. */
  constructor(dataDir: string) {
    super();
    this.dataDir = dataDir === 'memory' ? undefined : resolve(dataDir, 'pglite');
  }

  get dataSource(): DataSource {
    if (!this.ds) throw new Error('pglite: database is not open');
    return this.ds;
  }

  async open(): Promise<void> {
    if (this.dataDir) mkdirSync(this.dataDir, { recursive: true });
    const worker = new Worker(WORKER, {
      eval: true,
      workerData: {
        pglite: require.resolve('@electric-sql/pglite'),
        socket: require.resolve('@electric-sql/pglite-socket'),
        dataDir: this.dataDir,
        template: templateFile(),
      },
    });
    this.worker = worker;
    try {
      const address = await new Promise<string>((ok, fail) => {
        worker.once('message', (m: { listening?: string; error?: string }) =>
          m.listening ? ok(m.listening) : fail(new Error(`pglite failed to start: ${m.error}`)),
        );
        worker.once('error', fail);
        worker.once('exit', (code) => fail(new Error(`pglite worker exited with code ${code}`)));
      });
      // A later crash must not become an unhandled 'error' event: the pool then reports it.
      worker.on('error', () => undefined);
      const [host, port] = address.split(':');
      this.ds = new DataSource({
        type: 'postgres',
        host,
        port: Number(port),
        username: 'postgres',
        database: 'postgres',
        // One session in PGlite: two pooled connections would interleave their protocol
        // messages and transactions. Requests queue for the single connection instead.
        poolSize: 1,
        // 0 keeps the connection forever (no idle reconnects); waits for it are bounded.
        extra: { max: 1, idleTimeoutMillis: 0, connectionTimeoutMillis: 30000 },
        synchronize: false,
        migrationsRun: false,
        migrations: loadMigrations(),
        entities: loadEntities(),
      });
      await this.ds.initialize();
      await this.ds.runMigrations({ transaction: 'each' });
    } catch (e) {
      await this.close().catch(() => undefined);
      throw e;
    }
  }

  async close(): Promise<void> {
    const ds = this.ds;
    if (ds?.isInitialized) await ds.destroy();
    const worker = this.worker;
    this.worker = undefined;
    if (!worker) return;
    // Let PGlite flush and close its files; terminate anyway if it does not answer in time.
    await new Promise<void>((done) => {
      const timer = setTimeout(done, 5000);
      worker.once('message', () => (clearTimeout(timer), done()));
      worker.once('exit', () => (clearTimeout(timer), done()));
      worker.postMessage('close');
    });
    await worker.terminate();
  }
}
