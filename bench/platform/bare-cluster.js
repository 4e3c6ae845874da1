// Bare Fastify JSON route in N cluster workers on one port: the baseline for WEB_CONCURRENCY.
//   node bench/platform/bare-cluster.js <processes> <port>
const cluster = require('node:cluster');
const Fastify = require('fastify');

const [processes, port] = process.argv.slice(2).map(Number);
if (cluster.isPrimary && processes > 1) {
  for (let i = 0; i < processes; i++) cluster.fork();
  process.once('SIGTERM', () => {
    for (const w of Object.values(cluster.workers)) w.process.kill('SIGTERM');
    process.exit(0);
  });
} else {
  const app = Fastify();
  app.get('/bench', async () => ({ ok: true, n: 42 }));
  app.listen({ port, host: '127.0.0.1' });
  process.once('SIGTERM', () => process.exit(0));
}
