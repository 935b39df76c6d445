/**
 * package.json must say what the code imports: every package the shipped code (protocol/,
 * vault-server/, agent/, providers/, scripts/, bench/, and ui/ — the dashboard, bundled into
 * dist/ui) imports is in `dependencies`, every package only tests and build tooling (test/,
 * packaging/, the scripts that build the dashboard or take its screenshots) import is in
 * `devDependencies`, and nothing a transitive install merely happens to provide is imported undeclared.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';

const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
const RUNTIME_DIRS = ['protocol', 'vault-server', 'agent', 'providers', 'scripts', 'bench', 'ui'];
/** Build tooling kept beside the runtime scripts. */
const BUILD_FILES = ['scripts/build-ui.mjs', 'scripts/screenshots.mjs'];
const DEV_DIRS = ['test', 'packaging', ...BUILD_FILES];

function sources(dir: string): string[] {
  if (BUILD_FILES.includes(dir)) return [dir];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (BUILD_FILES.includes(path)) return [];
    if (statSync(path).isDirectory()) return sources(path);
    return /\.(ts|tsx|mjs|js)$/.test(name) ? [path] : [];
  });
}

/** The packages a file imports (static, type-only and dynamic), by package name. */
function importedPackages(file: string): Set<string> {
  const text = readFileSync(file, 'utf8');
  const out = new Set<string>();
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?\bfrom\s*['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) {
    const spec = (m[1] ?? m[2]) as string;
    if (spec.startsWith('.') || spec.startsWith('node:') || builtinModules.includes(spec)) continue;
    out.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : (spec.split('/')[0] as string));
  }
  return out;
}

function importsUnder(dirs: string[]): Map<string, string> {
  const seen = new Map<string, string>();
  for (const file of dirs.flatMap(sources)) {
    for (const name of importedPackages(file)) if (!seen.has(name)) seen.set(name, file);
  }
  return seen;
}

test('every package the shipped code imports is a dependency', () => {
  const runtime = importsUnder(RUNTIME_DIRS);
  assert.ok(runtime.has('fastify') && runtime.has('pino'), 'the import scan finds nothing: is the pattern broken?');
  const missing = [...runtime].filter(([name]) => !(name in pkg.dependencies)).map(([name, file]) => `${name} (${file})`);
  assert.deepEqual(missing, [], 'imported by shipped code but not in dependencies');
});

test('every dependency is used by the shipped code; test-only packages are devDependencies', () => {
  const runtime = importsUnder(RUNTIME_DIRS);
  assert.deepEqual(Object.keys(pkg.dependencies).filter((name) => !runtime.has(name)), [], 'in dependencies but imported only by tests (move to devDependencies)');
  const dev = importsUnder(DEV_DIRS);
  const undeclared = [...dev].filter(([name]) => !(name in pkg.dependencies) && !(name in pkg.devDependencies)).map(([name, file]) => `${name} (${file})`);
  assert.deepEqual(undeclared, [], 'imported by tests or tooling but declared nowhere');
});
