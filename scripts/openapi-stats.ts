/**
 * Prints how complete the OpenAPI document is (operations, with summary, with a success schema,
 * statuses documented), measured from /docs-json of an embedded app. `--dump FILE` also writes it.
 *   npx ts-node --transpile-only scripts/openapi-stats.ts [--dump openapi.json]
 */
import { writeFileSync } from 'node:fs';
import { createApp } from '../src/app';
import { loadConfig } from '../src/config/app-config';

const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;

async function main(): Promise<void> {
  const app = await createApp(loadConfig({ APP_PROFILE: 'embedded', DATA_DIR: 'memory', LOG_LEVEL: 'silent', NODE_ENV: 'test' }));
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  const res = await app.getHttpAdapter().getInstance().inject({ method: 'GET', url: '/docs-json' });
  const doc = res.json() as { paths: Record<string, Record<string, any>> };
  await app.close();
  const dump = process.argv.indexOf('--dump');
  if (dump > 0) writeFileSync(process.argv[dump + 1], JSON.stringify(doc, null, 2));
  let ops = 0, summary = 0, description = 0, successSchema = 0, statuses = 0, problemJson = 0, errors = 0;
  for (const item of Object.values(doc.paths)) {
    for (const m of METHODS) {
      const op = item[m];
      if (!op) continue;
      ops++;
      if (op.summary) summary++;
      if (op.description) description++;
      const codes = Object.keys(op.responses ?? {});
      statuses += codes.length;
      const ok = codes.filter((c) => c.startsWith('2'));
      if (ok.length && ok.every((c) => c === '204' || Object.values(op.responses[c].content ?? {}).some((x: any) => x.schema))) successSchema++;
      for (const c of codes.filter((c) => /^[45]/.test(c))) {
        errors++;
        if (op.responses[c].content?.['application/problem+json']) problemJson++;
      }
    }
  }
  console.log(JSON.stringify({ operations: ops, withSummary: summary, withDescription: description, withSuccessSchema: successSchema, statusesDocumented: statuses, errorStatuses: errors, errorStatusesAsProblemJson: problemJson }));
}

void main().catch((e) => {
  console.error(e);
  process.exit(1);
});
