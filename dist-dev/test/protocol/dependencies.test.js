/**
 * package.json must say what the code imports: every package the shipped code (protocol/,
 * vault-server/, agent/, providers/, scripts/, bench/) imports is in `dependencies`, every
 * package only tests and build tooling import is in `devDependencies`, and nothing a transitive
 * install merely happens to provide is imported undeclared.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
const RUNTIME_DIRS = ['protocol', 'vault-server', 'agent', 'providers', 'scripts', 'bench'];
const DEV_DIRS = ['test', 'packaging'];
function sources(dir) {
    return readdirSync(dir).flatMap((name) => {
        const path = join(dir, name);
        if (statSync(path).isDirectory())
            return sources(path);
        return /\.(ts|mjs|js)$/.test(name) ? [path] : [];
    });
}
/** The packages a file imports (static, type-only and dynamic), by package name. */
function importedPackages(file) {
    const text = readFileSync(file, 'utf8');
    const out = new Set();
    for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?\bfrom\s*['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) {
        const spec = (m[1] ?? m[2]);
        if (spec.startsWith('.') || spec.startsWith('node:') || builtinModules.includes(spec))
            continue;
        out.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]);
    }
    return out;
}
function importsUnder(dirs) {
    const seen = new Map();
    for (const file of dirs.flatMap(sources)) {
        for (const name of importedPackages(file))
            if (!seen.has(name))
                seen.set(name, file);
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
//# sourceMappingURL=dependencies.test.js.map