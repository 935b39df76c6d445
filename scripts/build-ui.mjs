#!/usr/bin/env node
// Builds the dashboard (ui/src, Preact + TypeScript) with esbuild into dist/ui/: hashed assets in
// dist/ui/assets/ and dist/ui/index.html (also dist/ui/accept/index.html, the invitation page,
// so a plain static server finds /ui/accept too). No inline script or style: the vault serves
// /ui/ with `script-src 'self'; style-src 'self'`.
//
//   node scripts/build-ui.mjs          (npm run build runs it after tsc)
import { build } from 'esbuild';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';

const OUT = 'dist/ui';
rmSync(OUT, { recursive: true, force: true });
const result = await build({
  entryPoints: { app: 'ui/src/main.tsx', styles: 'ui/src/styles.css' },
  bundle: true, minify: true, sourcemap: false, format: 'esm', target: ['chrome120', 'firefox128', 'safari17'],
  jsx: 'automatic', jsxImportSource: 'preact', outdir: join(OUT, 'assets'), entryNames: '[name]-[hash]',
  metafile: true, legalComments: 'none', logLevel: 'warning',
});
const outputs = Object.keys(result.metafile.outputs);
const js = outputs.find((o) => /app-[^/]+\.js$/.test(o));
const css = outputs.find((o) => /styles-[^/]+\.css$/.test(o));
if (!js || !css) throw new Error(`esbuild produced no app bundle or stylesheet: ${outputs.join(', ')}`);

const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>SikkerKey</title>
<link rel="stylesheet" href="/ui/assets/${basename(css)}">
<script type="module" src="/ui/assets/${basename(js)}"></script>
</head>
<body>
<div id="app"></div>
<noscript>The SikkerKey dashboard needs JavaScript: it signs every request with a key held by this browser.</noscript>
</body>
</html>
`;
writeFileSync(join(OUT, 'index.html'), html);
mkdirSync(join(OUT, 'accept'), { recursive: true });
writeFileSync(join(OUT, 'accept', 'index.html'), html);
const size = (o) => result.metafile.outputs[o].bytes;
console.log(`ui: ${OUT}/index.html, ${basename(js)} (${size(js)} bytes), ${basename(css)} (${size(css)} bytes)`);
