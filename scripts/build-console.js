#!/usr/bin/env node
// Builds the web console (src/console) into dist/console: one minified ES module bundle and one
// stylesheet, content-hashed, and an index.html that links them (no inline script or style, so a
// strict same-origin CSP serves it). Run after `nest build`, which empties dist/.
'use strict';
const esbuild = require('esbuild');
const fs = require('node:fs');
const path = require('node:path');
const zlib = require('node:zlib');

const root = path.resolve(__dirname, '..');
const src = path.join(root, 'src/console');
const out = path.join(root, 'dist/console');
const BUDGET_GZIP_JS = 200 * 1024;

async function main() {
  fs.rmSync(out, { recursive: true, force: true });
  const result = await esbuild.build({
    entryPoints: { app: path.join(src, 'main.tsx') },
    bundle: true,
    minify: true,
    format: 'esm',
    target: ['es2022'],
    sourcemap: 'linked',
    outdir: path.join(out, 'assets'),
    entryNames: '[name]-[hash]',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    metafile: true,
    logLevel: 'warning',
    tsconfig: path.join(src, 'tsconfig.json'),
  });
  const outputs = Object.keys(result.metafile.outputs).map((f) => path.relative(out, path.resolve(root, f)));
  const js = outputs.filter((f) => f.endsWith('.js'));
  const css = outputs.filter((f) => f.endsWith('.css'));
  const html = fs
    .readFileSync(path.join(src, 'index.html'), 'utf8')
    .replace('<!--styles-->', css.map((f) => `<link rel="stylesheet" href="${f}">`).join('\n    '))
    .replace('<!--scripts-->', js.map((f) => `<script type="module" src="${f}"></script>`).join('\n    '));
  fs.writeFileSync(path.join(out, 'index.html'), html);
  fs.copyFileSync(path.join(src, 'favicon.svg'), path.join(out, 'favicon.svg'));
  const gz = js.reduce((n, f) => n + zlib.gzipSync(fs.readFileSync(path.join(out, f)), { level: 9 }).length, 0);
  const sizes = { js, css, gzipJsBytes: gz, budgetBytes: BUDGET_GZIP_JS };
  fs.writeFileSync(path.join(out, 'build-info.json'), JSON.stringify(sizes, null, 2));
  process.stdout.write(`console: ${js.join(', ')} (${(gz / 1024).toFixed(1)} KiB gzipped JS, budget ${BUDGET_GZIP_JS / 1024} KiB) → dist/console\n`);
  if (gz > BUDGET_GZIP_JS) {
    process.stderr.write('console: the first load is over its JS budget\n');
    process.exit(1);
  }
}

main().catch((e) => {
  process.stderr.write(`console build failed: ${e.message}\n`);
  process.exit(1);
});
