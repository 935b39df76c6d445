// The vault server's systemd unit (packaging/systemd/sikkerkey-vault.service), held to the agent's
// checks (systemd.test.ts): the hardening lines, systemd-analyze verify without a warning, an
// exposure of at most 2.0 from systemd-analyze security --offline; then its ExecStart as systemd
// would run it — %d (the credentials directory holding the root key LoadCredential= copied) and
// %S (/var/lib) filled in with temporary directories — starts a real vault that is ready.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import type { SpawnSyncReturns } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../support/agent-binary.js';
import { jsonOf, runBin, startBin } from '../support/processes.js';

const UNIT = join(REPO_ROOT, 'packaging', 'systemd', 'sikkerkey-vault.service');
const work = mkdtempSync(join(tmpdir(), 'sk-vault-unit-'));
after(() => rmSync(work, { recursive: true, force: true }));

const sh = (cmd: string, args: string[]): SpawnSyncReturns<string> => spawnSync(cmd, args, { encoding: 'utf8', timeout: 120_000 });
const unit = (): string => readFileSync(UNIT, 'utf8');
const directive = (name: string): string[] => unit().split('\n').filter((l) => l.startsWith(`${name}=`)).map((l) => l.slice(name.length + 1));

/** A root with what systemd-analyze needs: users, systemd's own units, the unit's executables (stubs). */
function makeRoot(): string {
  const root = mkdtempSync(join(work, 'root-'));
  mkdirSync(join(root, 'etc', 'systemd', 'system'), { recursive: true });
  writeFileSync(join(root, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/bash\n');
  writeFileSync(join(root, 'etc', 'group'), 'root:x:0:\n');
  cpSync('/usr/lib/systemd/system', join(root, 'usr', 'lib', 'systemd', 'system'), { recursive: true, verbatimSymlinks: true });
  mkdirSync(join(root, 'bin'), { recursive: true });
  cpSync(realpathSync('/bin/sh'), join(root, 'bin', 'sh'));
  cpSync(realpathSync('/bin/kill'), join(root, 'bin', 'kill'));
  mkdirSync(join(root, 'usr', 'local', 'bin'), { recursive: true });
  writeFileSync(join(root, 'usr', 'local', 'bin', 'sikkerkey-vault'), '#!/bin/sh\n', { mode: 0o755 });
  cpSync(UNIT, join(root, 'etc', 'systemd', 'system', 'sikkerkey-vault.service'));
  return root;
}

test('the unit is hardened: a dynamic non-root user, the root key as a credential, the store under StateDirectory, no MemoryDenyWriteExecute', () => {
  const text = unit();
  const has = (line: string): void => assert.match(text, new RegExp(`^${line.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'), line);
  for (const line of ['DynamicUser=yes', 'User=sikkerkey-vault', 'NoNewPrivileges=yes', 'ProtectSystem=strict', 'ProtectHome=yes', 'PrivateTmp=yes',
    'PrivateDevices=yes', 'CapabilityBoundingSet=', 'AmbientCapabilities=', 'SystemCallFilter=@system-service', 'StateDirectory=sikkerkey-vault',
    'StateDirectoryMode=0700', 'UMask=0077', 'LoadCredential=root-key:/etc/sikkerkey-vault/root-key']) has(line);
  assert.match(text, /^RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX$/m);
  assert.doesNotMatch(text, /^MemoryDenyWriteExecute=/m);
  assert.doesNotMatch(text, /^(Environment|EnvironmentFile)=.*ROOT_KEY/m, 'the root key is never in the environment');
  const start = directive('ExecStart')[0] ?? assert.fail('no ExecStart');
  assert.match(start, / --root-key-file %d\/root-key( |$)/, 'serve reads the credential systemd copied');
  assert.match(start, / --data-dir %S\/sikkerkey-vault( |$)/, 'the store is in the StateDirectory');
  assert.doesNotMatch(start, /--listen [^ ]*:(\d{1,3})(?!\d)/, 'no privileged port');
});

test('systemd-analyze verify accepts the unit without a warning', () => {
  const root = makeRoot();
  const r = sh('systemd-analyze', ['verify', `--root=${root}`, 'sikkerkey-vault.service']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr.trim(), '', `warnings: ${r.stderr}`);
});

test('systemd-analyze security --offline=yes scores the unit 2.0 or better', () => {
  const root = makeRoot();
  const r = sh('systemd-analyze', ['security', '--offline=yes', `--root=${root}`, '--no-pager', 'sikkerkey-vault.service']);
  assert.equal(r.status, 0, r.stderr);
  const m = /Overall exposure level for sikkerkey-vault\.service: (\d+\.\d+)/.exec(r.stdout) ?? assert.fail(`no score in: ${r.stdout.slice(-500)}`);
  const score = Number(m[1]);
  console.log(`# systemd-analyze security (vault): exposure ${score}`);
  assert.ok(score <= 2.0, `exposure ${score} > 2.0`);
});

test('the unit\'s ExecStart, with %d and %S as systemd fills them in, serves a vault that is ready', { timeout: 60_000 }, async () => {
  const creds = join(work, 'credentials');
  const stateRoot = join(work, 'var-lib');
  const etc = join(work, 'etc-sikkerkey-vault');
  for (const d of [creds, stateRoot, etc]) mkdirSync(d, { recursive: true, mode: 0o700 });
  const op = jsonOf<{ publicKey: string }>(await runBin('sikkerkey', ['keygen', '--out', join(work, 'operator.key'), '--json']));
  const init = jsonOf<{ rootKey: string }>(await runBin('sikkerkey-vault', ['init', '--data-dir', join(stateRoot, 'sikkerkey-vault'), '--operator-public-key', op.publicKey, '--json']));
  writeFileSync(join(creds, 'root-key'), `${init.rootKey}\n`, { mode: 0o400 });
  writeFileSync(join(etc, 'vault.yaml'), 'listen: 127.0.0.1:0\nworkers: 1\n', { mode: 0o600 });
  const words = (directive('ExecStart')[0] ?? '').split(/\s+/);
  assert.equal(words[0], '/usr/local/bin/sikkerkey-vault');
  const args = words.slice(1).map((w) => w.replaceAll('%d', creds).replaceAll('%S', stateRoot).replace('/etc/sikkerkey-vault', etc));
  assert.ok(!args.some((a) => a.includes('%')), `every specifier is filled in: ${args.join(' ')}`);
  const vault = startBin('sikkerkey-vault', args, { env: { CREDENTIALS_DIRECTORY: creds } });
  try {
    const m = await vault.waitFor(/"url":"(http:\/\/[^"]+)"/);
    const ready = await fetch(`${m[1]}/readyz`);
    assert.equal(ready.status, 200);
    assert.deepEqual((await ready.json() as { checks: unknown }).checks, { store: 'ok', migrations: 'current', rootKey: 'loaded' });
    assert.equal(vault.output().includes(init.rootKey), false, 'the root key is never logged');
  } finally {
    await vault.stop();
  }
});
