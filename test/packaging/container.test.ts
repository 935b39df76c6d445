// The vault server's Containerfile (packaging/container/Containerfile). It cannot be built here
// (no image registry is reachable), so it is parsed and held to what the image must be: the final
// stage runs as a non-root USER; no layer can hold a secret (only named source paths that exist
// are copied — never the whole checkout, where a .env or a root key may lie — no remote ADD, no
// ENV or ARG named like a secret); a HEALTHCHECK that asks /readyz — its script is run against a
// real vault (ready: exit 0) and against nothing (exit 1). The checks are shown to fail on a
// broken file.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../support/agent-binary.js';
import { freePort } from '../support/services.js';
import { startVaultProcess } from '../support/vault-process.js';
import type { VaultProcess } from '../support/vault-process.js';

const FILE = join(REPO_ROOT, 'packaging', 'container', 'Containerfile');
const HEALTHCHECK = join(REPO_ROOT, 'packaging', 'container', 'healthcheck.mjs');

interface Instruction { op: string; args: string; line: number }

/** Instructions with continuation lines joined and comments dropped, grouped by stage (FROM). */
function parse(text: string): Instruction[][] {
  const stages: Instruction[][] = [];
  let pending = '';
  let start = 0;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (pending === '' && (line === '' || line.startsWith('#'))) return;
    if (pending === '') start = i + 1;
    pending += (pending ? ' ' : '') + line.replace(/\\$/, '').trim();
    if (line.endsWith('\\')) return;
    const m = /^(\w+)\s+(.*)$/.exec(pending) ?? assert.fail(`line ${start}: not an instruction: ${pending}`);
    const ins = { op: (m[1] as string).toUpperCase(), args: m[2] as string, line: start };
    if (ins.op === 'FROM') stages.push([]);
    (stages.at(-1) ?? assert.fail(`line ${start}: ${ins.op} before FROM`)).push(ins);
    pending = '';
  });
  return stages;
}

const SECRET_NAME = /(^|[^a-z])(\.env|env\.|root[-_.]?key|secret|token|password|passwd|credential|\.pem|\.key|id_rsa|\.npmrc)([^a-z]|$)/i;
const SECRET_VAR = /(^|_)(KEY|SECRET|TOKEN|PASSWORD|PASSWD|CREDENTIALS?|DATABASE_URL)(_|$)/i;

/** Everything wrong with a Containerfile, as sentences (empty: fine). */
function problems(text: string): string[] {
  const out: string[] = [];
  const stages = parse(text);
  const final = stages.at(-1) ?? [];
  const users = final.filter((i) => i.op === 'USER');
  const user = users.at(-1)?.args.split(':')[0]?.trim();
  if (user === undefined) out.push('the final stage sets no USER: it would run as root');
  else if (user === 'root' || user === '0') out.push(`the final stage runs as ${user}`);
  for (const stage of stages) {
    for (const i of stage) {
      if (i.op === 'COPY' || i.op === 'ADD') {
        const words = i.args.split(/\s+/).filter((w) => !w.startsWith('--'));
        const fromStage = /--from=/.test(i.args);
        for (const src of words.slice(0, -1)) {
          if (i.op === 'ADD' && /^[a-z]+:\/\//i.test(src)) out.push(`line ${i.line}: ADD of a remote URL (${src})`);
          if (!fromStage && (src === '.' || src === './' || src.includes('*'))) out.push(`line ${i.line}: copies ${src} — the whole checkout (or a glob) could carry a .env or a key`);
          if (SECRET_NAME.test(src)) out.push(`line ${i.line}: copies ${src}, named like a secret`);
          if (!fromStage && !existsSync(join(REPO_ROOT, src))) out.push(`line ${i.line}: ${src} is not in the repository`);
        }
      }
      if (i.op === 'ENV' || i.op === 'ARG') {
        for (const name of i.args.split(/\s+/).map((w) => w.split('=')[0] ?? '')) {
          if (SECRET_VAR.test(name)) out.push(`line ${i.line}: ${i.op} ${name} would put a secret in the image's metadata`);
        }
      }
      if (i.op === 'RUN' && /--mount=type=secret/.test(i.args) === false && /(ROOT_KEY|echo .*(key|token|password))/i.test(i.args)) out.push(`line ${i.line}: RUN handles a secret`);
    }
  }
  const health = final.filter((i) => i.op === 'HEALTHCHECK');
  if (health.length !== 1) out.push('the final stage has no HEALTHCHECK');
  else {
    const cmd = health[0]?.args ?? '';
    const script = /\/opt\/sikkerkey\/(healthcheck\.mjs)/.exec(cmd);
    const copied = final.some((i) => i.op === 'COPY' && /packaging\/container\/healthcheck\.mjs\s+\.\/healthcheck\.mjs/.test(i.args));
    if (!/\/readyz/.test(cmd) && !(script && copied && /\/readyz/.test(readFileSync(HEALTHCHECK, 'utf8')))) out.push('the HEALTHCHECK does not ask /readyz');
  }
  if (!final.some((i) => i.op === 'ENTRYPOINT' && /dist\/vault-server\/main\.js/.test(i.args))) out.push('the image does not run sikkerkey-vault');
  return out;
}

const containerfile = (): string => readFileSync(FILE, 'utf8');

test('the Containerfile: a non-root USER, nothing secret in any layer, a HEALTHCHECK on /readyz', () => {
  assert.deepEqual(problems(containerfile()), []);
  assert.match(containerfile(), /untested here/i, 'the file says its build is untested here');
});

test('the checks fail on a broken Containerfile (no USER, root, COPY . ., a key file, ENV with a key, no HEALTHCHECK)', () => {
  const text = containerfile();
  const cases: Array<[string, string, RegExp]> = [
    ['no USER', text.replace(/^USER .*$/m, ''), /sets no USER/],
    ['root', text.replace(/^USER .*$/m, 'USER root'), /runs as root/],
    ['the whole checkout', text.replace(/^COPY protocol .*$/m, 'COPY . .'), /whole checkout/],
    ['a key file', text.replace(/^COPY protocol .*$/m, 'COPY root-key /run/root-key'), /named like a secret/],
    ['a .env', text.replace(/^COPY protocol .*$/m, 'COPY .env ./.env'), /named like a secret/],
    ['an ENV key', text.replace(/^ENV .*$/m, 'ENV SIKKERKEY_ROOT_KEY=abc'), /ENV SIKKERKEY_ROOT_KEY/],
    ['a build ARG', text.replace(/^WORKDIR \/src$/m, 'ARG DATABASE_URL\nWORKDIR /src'), /ARG DATABASE_URL/],
    ['no HEALTHCHECK', text.replace(/^HEALTHCHECK .*$/m, ''), /no HEALTHCHECK/],
  ];
  for (const [what, broken, want] of cases) assert.match(problems(broken).join('\n'), want, what);
});

let vault: VaultProcess | undefined;
after(async () => { await vault?.close(); });

test('the HEALTHCHECK script: exit 0 against a ready vault, 1 where no vault answers', { timeout: 60_000 }, async () => {
  vault = await startVaultProcess();
  const run = (port: number): number | null => spawnSync(process.execPath, [HEALTHCHECK], {
    encoding: 'utf8', timeout: 30_000, env: { ...process.env, SIKKERKEY_VAULT_LISTEN: `0.0.0.0:${port}`, SIKKERKEY_VAULT_TLS_CERT: '' },
  }).status;
  assert.equal((await vault.get('/readyz')).status, 200);
  assert.equal(run(vault.port), 0);
  assert.equal(run(await freePort()), 1);
});
