/**
 * The app under test for flash-sale.bench.ts, in its own process (the load generator must not share
 * its event loop). Config comes from the environment the bench passes; the port goes back over IPC,
 * and a 'close' message shuts the app down (flushing a --cpu-prof profile on exit).
 */
import { createApp } from '../../src/app';
import { loadConfig } from '../../src/config/app-config';

async function main() {
  const config = loadConfig(process.env);
  const app = await createApp(config);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const port = (app.getHttpServer().address() as { port: number }).port;
  process.on('message', async (m) => {
    if (m !== 'close') return;
    await app.close().catch(() => undefined);
    process.exit(0);
  });
  process.send!({ port });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
