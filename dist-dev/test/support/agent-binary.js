/**
 * The single-executable agent (dist/bin/sikkerkey-agent) for tests: built with the real
 * `npm run build:agent` script when it is missing or older than anything it is built from, and
 * reused otherwise (a build takes ~15–30 s). Concurrent test processes wait for one build.
 *
 * @example
 *   const { path } = await agentBinary();
 *   const h = await startRotationHarness({ engine: 'redis', target, admin, agentExecutable: path });
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from './wait.js';
/** The repository root (tests run from dist/test/support). */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const AGENT_BINARY = join(REPO_ROOT, 'dist', 'bin', 'sikkerkey-agent');
/** A build took 5–25 s when measured; this bound only decides how long a hung build takes to fail. */
export const BUILD_TIMEOUT_MS = 300_000;
/**
 * The `{ timeout }` for a `before` hook that calls agentBinary(): at worst it waits out another
 * process's build (which failed) and then builds itself, plus a minute for whatever else the hook
 * starts. Only a hung build comes near it.
 */
export const AGENT_BINARY_HOOK_TIMEOUT_MS = 2 * BUILD_TIMEOUT_MS + 90_000;
/** What the executable is built from: the agent's import graph, the lock file and the build script. */
const INPUT_DIRS = ['agent', 'providers', 'protocol', 'packaging/binary'];
const INPUT_FILES = ['package.json', 'package-lock.json'];
function newestInput() {
    let newest = 0;
    const walk = (dir) => {
        if (!existsSync(dir))
            return;
        for (const entry of readdirSync(dir, { withFileTypes: true })) {
            const path = join(dir, entry.name);
            if (entry.isDirectory())
                walk(path);
            else
                newest = Math.max(newest, statSync(path).mtimeMs);
        }
    };
    for (const d of INPUT_DIRS)
        walk(join(REPO_ROOT, d));
    for (const f of INPUT_FILES)
        newest = Math.max(newest, statSync(join(REPO_ROOT, f)).mtimeMs);
    return newest;
}
/** True when dist/bin/sikkerkey-agent is missing or older than one of its inputs. */
export function agentBinaryIsStale() {
    return !existsSync(AGENT_BINARY) || statSync(AGENT_BINARY).mtimeMs < newestInput();
}
let pending;
/** The executable's path, built first when stale; `build` is the build's report when this call built it. */
export function agentBinary() {
    pending ??= ensure().finally(() => { pending = undefined; });
    return pending;
}
async function ensure() {
    if (!agentBinaryIsStale())
        return { path: AGENT_BINARY, build: undefined };
    const lock = join(REPO_ROOT, 'dist', 'bin', '.build-lock');
    mkdirSync(join(REPO_ROOT, 'dist', 'bin'), { recursive: true });
    await waitFor(() => {
        try {
            mkdirSync(lock); // atomic: one builder at a time
            return 'locked';
        }
        catch {
            // another test process builds; a lock older than 5 minutes was left by a killed build
            if (existsSync(lock) && Date.now() - statSync(lock).mtimeMs > BUILD_TIMEOUT_MS)
                rmdirSync(lock);
            return `${lock} held by another build`;
        }
    }, { what: 'another test process to finish building the agent executable', timeoutMs: BUILD_TIMEOUT_MS + 30_000, intervalMs: 500, until: (s) => s === 'locked' });
    try {
        if (!agentBinaryIsStale())
            return { path: AGENT_BINARY, build: undefined };
        const report = await buildOnce();
        return { path: AGENT_BINARY, build: report };
    }
    finally {
        rmdirSync(lock);
    }
}
function buildOnce() {
    return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [join(REPO_ROOT, 'packaging', 'binary', 'build-agent.mjs'), '--json'], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d) => { stdout += d.toString(); });
        child.stderr.on('data', (d) => { stderr += d.toString(); });
        const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`npm run build:agent took more than ${BUILD_TIMEOUT_MS / 60_000} minutes`)); }, BUILD_TIMEOUT_MS);
        child.on('error', reject);
        child.on('close', (code) => {
            clearTimeout(timer);
            if (code !== 0)
                return reject(new Error(`build:agent failed (${code}): ${stderr.slice(-3000)}`));
            try {
                resolve(JSON.parse(stdout));
            }
            catch {
                reject(new Error(`build:agent printed no report: ${stdout.slice(-1000)} ${stderr.slice(-1000)}`));
            }
        });
    });
}
//# sourceMappingURL=agent-binary.js.map