// The systemd packaging: the hardened unit (systemd-analyze verify, and an exposure score of at
// most 2.0 from systemd-analyze security --offline), bootstrap.sh run for real into a temporary
// root against a real vault (install, user, key directory, config, enrollment, enable; twice, to
// prove it idempotent), the installed agent started with what bootstrap wrote, EC2 user-data
// driving the same bootstrap, and shellcheck over every packaging script.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AGENT_BINARY_HOOK_TIMEOUT_MS, agentBinary, REPO_ROOT } from '../support/agent-binary.js';
import { startVaultProcess } from '../support/vault-process.js';
import { jsonOf, startExecutable } from '../support/processes.js';
import { waitFor } from '../support/wait.js';
const UNIT = join(REPO_ROOT, 'packaging', 'systemd', 'sikkerkey-agent.service');
const BOOTSTRAP = join(REPO_ROOT, 'packaging', 'systemd', 'bootstrap.sh');
const USER_DATA = join(REPO_ROOT, 'packaging', 'ec2', 'user-data.sh');
const sh = (cmd, args, opts = {}) => spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, ...opts.env }, ...(opts.cwd ? { cwd: opts.cwd } : {}), timeout: 120_000 });
/** A root filesystem with what bootstrap and systemd-analyze need of one: users, systemd's units, /bin/sh. */
function makeRoot() {
    const root = mkdtempSync(join(tmpdir(), 'sk-sysroot-'));
    mkdirSync(join(root, 'etc'), { recursive: true });
    writeFileSync(join(root, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/bash\n');
    writeFileSync(join(root, 'etc', 'group'), 'root:x:0:\n');
    writeFileSync(join(root, 'etc', 'shadow'), 'root:*:19000:0:99999:7:::\n', { mode: 0o640 });
    writeFileSync(join(root, 'etc', 'gshadow'), 'root:*::\n', { mode: 0o640 });
    cpSync('/usr/lib/systemd/system', join(root, 'usr', 'lib', 'systemd', 'system'), { recursive: true, verbatimSymlinks: true });
    mkdirSync(join(root, 'bin'), { recursive: true });
    cpSync(realpathSync('/bin/sh'), join(root, 'bin', 'sh'));
    return root;
}
function passwdEntry(root, user) {
    return readFileSync(join(root, 'etc', 'passwd'), 'utf8').split('\n').find((l) => l.startsWith(`${user}:`))?.split(':');
}
test('the unit has the required hardening and no MemoryDenyWriteExecute (V8 writes executable pages)', () => {
    const unit = readFileSync(UNIT, 'utf8');
    const has = (line) => assert.match(unit, new RegExp(`^${line.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'), line);
    for (const line of ['User=sikkerkey-agent', 'NoNewPrivileges=yes', 'ProtectSystem=strict', 'ProtectHome=yes', 'PrivateTmp=yes', 'PrivateDevices=yes',
        'CapabilityBoundingSet=', 'SystemCallFilter=@system-service', 'LoadCredential=enrollment-token:/etc/sikkerkey-agent/enrollment-token'])
        has(line);
    assert.match(unit, /^RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX$/m);
    assert.doesNotMatch(unit, /^MemoryDenyWriteExecute=/m);
});
describe('bootstrap.sh into a temporary root, against a real vault', () => {
    let vault;
    let root;
    let bin;
    let token;
    let first;
    const work = mkdtempSync(join(tmpdir(), 'sk-bootstrap-'));
    const newToken = async () => jsonOf(await vault.sk(['enroll-token', 'create', '--project', 'fleet', '--secret', 'db-admin', '--label', 'rotator',
        '--machine-lifetime', '24h', '--max-uses', '1', '--name-template', 'host-{hostname}', '--json'])).token;
    const bootstrap = (args) => sh('bash', [BOOTSTRAP, '--root', root, '--vault-url', vault.url, ...args]);
    // May build the agent executable first (5–25 s measured, bounded at 5 minutes by agentBinary()).
    before(async () => {
        [{ path: bin }, vault] = await Promise.all([agentBinary(), startVaultProcess()]);
        jsonOf(await vault.sk(['project', 'create', 'fleet', '--json']));
        jsonOf(await vault.sk(['secret', 'set', 'fleet', 'db-admin', '--fields-json', '{"host":"db","username":"admin","password":"not-a-real-one"}', '--json']));
        root = makeRoot();
        token = await newToken();
        writeFileSync(join(work, 'token'), `${token}\n`, { mode: 0o600 });
        first = bootstrap(['--token-file', join(work, 'token'), '--binary', bin, '--hostname', 'web-1', '--health-listen', '127.0.0.1:0']);
    }, { timeout: AGENT_BINARY_HOOK_TIMEOUT_MS });
    after(async () => {
        await vault?.close();
        if (root)
            rmSync(root, { recursive: true, force: true });
        rmSync(work, { recursive: true, force: true });
    });
    test('installs the executable, the user, the directories (0700, key 0600) and the configuration', () => {
        assert.equal(first.status, 0, first.stderr + first.stdout);
        const installed = join(root, 'usr', 'local', 'bin', 'sikkerkey-agent');
        assert.equal(statSync(installed).mode & 0o777, 0o755);
        assert.equal(createHash('sha256').update(readFileSync(installed)).digest('hex'), createHash('sha256').update(readFileSync(bin)).digest('hex'));
        const user = passwdEntry(root, 'sikkerkey-agent') ?? assert.fail('no sikkerkey-agent in etc/passwd');
        const [uid, gid] = [Number(user[2]), Number(user[3])];
        assert.ok(uid > 0 && uid < 1000, 'a system user');
        assert.equal(user[6], '/usr/sbin/nologin');
        const keyDir = statSync(join(root, 'var', 'lib', 'sikkerkey-agent'));
        assert.equal(keyDir.mode & 0o777, 0o700);
        assert.deepEqual([keyDir.uid, keyDir.gid], [uid, gid]);
        const key = statSync(join(root, 'var', 'lib', 'sikkerkey-agent', 'agent.key'));
        assert.equal(key.mode & 0o777, 0o600);
        assert.deepEqual([key.uid, key.gid], [uid, gid]);
        const conf = readFileSync(join(root, 'etc', 'sikkerkey-agent', 'agent.yaml'), 'utf8');
        assert.match(conf, new RegExp(`^vaultUrl: "${vault.url}"$`, 'm'));
        assert.match(conf, /^keyFile: \/var\/lib\/sikkerkey-agent\/agent\.key$/m);
        assert.doesNotMatch(conf, /labels/, 'labels are the token\'s, not a setting');
        assert.equal(statSync(join(root, 'etc', 'sikkerkey-agent', 'agent.yaml')).mode & 0o777, 0o640);
        assert.match(readFileSync(join(root, 'etc', 'sikkerkey-agent', 'agent.env'), 'utf8'), new RegExp(`^SIKKERKEY_URL=${vault.url}$`, 'm'));
    });
    test('enrolls with the token, then leaves the token file empty and root-only', async () => {
        assert.match(first.stdout, /enrolled: \{.*"name":"host-web-1"/);
        const machines = jsonOf(await vault.sk(['machine', 'list', '--json']));
        const m = machines.machines.find((x) => x.name === 'host-web-1') ?? assert.fail('the machine is not in the vault');
        assert.equal(m.status, 'active');
        assert.deepEqual(m.labels, ['rotator'], 'the labels the token gave');
        const tokenFile = join(root, 'etc', 'sikkerkey-agent', 'enrollment-token');
        assert.equal(readFileSync(tokenFile, 'utf8'), '', 'the spent token is not left on disk');
        assert.equal(statSync(tokenFile).mode & 0o777, 0o600);
        assert.equal(first.stdout.includes(token) || first.stderr.includes(token), false, 'the token is never printed');
    });
    test('installs the unit and enables it for multi-user.target', () => {
        assert.equal(readFileSync(join(root, 'etc', 'systemd', 'system', 'sikkerkey-agent.service'), 'utf8'), readFileSync(UNIT, 'utf8'));
        const link = join(root, 'etc', 'systemd', 'system', 'multi-user.target.wants', 'sikkerkey-agent.service');
        assert.ok(lstatSync(link).isSymbolicLink());
        assert.equal(readlinkSync(link), '/etc/systemd/system/sikkerkey-agent.service');
    });
    test('is idempotent: a second run changes nothing, keeps the key and needs no token', async () => {
        const keyBefore = readFileSync(join(root, 'var', 'lib', 'sikkerkey-agent', 'agent.key'));
        const again = bootstrap(['--binary', bin, '--health-listen', '127.0.0.1:0']);
        assert.equal(again.status, 0, again.stderr + again.stdout);
        assert.match(again.stdout, /already enrolled/);
        assert.doesNotMatch(again.stdout, /wrote |created user/, 'nothing rewritten');
        assert.deepEqual(readFileSync(join(root, 'var', 'lib', 'sikkerkey-agent', 'agent.key')), keyBefore);
        assert.equal(readFileSync(join(root, 'etc', 'passwd'), 'utf8').split('\n').filter((l) => l.startsWith('sikkerkey-agent:')).length, 1);
        const machines = jsonOf(await vault.sk(['machine', 'list', '--json']));
        assert.equal(machines.machines.length, 1, 'no second machine');
    });
    test('refuses to run without a vault URL, and --label (the token gives labels), before touching anything', () => {
        const noUrl = sh('bash', [BOOTSTRAP, '--root', root, '--binary', bin], { env: { SIKKERKEY_URL: '' } });
        assert.equal(noUrl.status, 1);
        assert.match(noUrl.stderr, /--vault-url is required/);
        const label = bootstrap(['--binary', bin, '--label', 'rotator']);
        assert.equal(label.status, 1);
        assert.match(label.stderr, /--label is not a bootstrap option: .*sikkerkey enroll-token create --label/);
        assert.equal(label.stdout, '', 'nothing was done');
    });
    test('systemd-analyze verify accepts the installed unit', () => {
        const r = sh('systemd-analyze', ['verify', `--root=${root}`, 'sikkerkey-agent.service']);
        assert.equal(r.status, 0, r.stderr);
        assert.equal(r.stderr.trim(), '', `warnings: ${r.stderr}`);
    });
    test('systemd-analyze security --offline=yes scores the unit 2.0 or better', () => {
        const r = sh('systemd-analyze', ['security', '--offline=yes', `--root=${root}`, '--no-pager', 'sikkerkey-agent.service']);
        assert.equal(r.status, 0, r.stderr);
        const m = /Overall exposure level for sikkerkey-agent\.service: (\d+\.\d+)/.exec(r.stdout) ?? assert.fail(`no score in: ${r.stdout.slice(-500)}`);
        const score = Number(m[1]);
        console.log(`# systemd-analyze security: exposure ${score}`);
        assert.ok(score <= 2.0, `exposure ${score} > 2.0`);
    });
    test('the installed agent runs with the configuration bootstrap wrote and reaches the vault', async () => {
        // inside the root the paths are absolute (/var/lib/…): point the key at the temporary root
        const agent = startExecutable(join(root, 'usr', 'local', 'bin', 'sikkerkey-agent'), ['run', '--config', join(root, 'etc', 'sikkerkey-agent', 'agent.yaml')], {
            env: { SIKKERKEY_AGENT_KEY_FILE: join(root, 'var', 'lib', 'sikkerkey-agent', 'agent.key'), SIKKERKEY_AGENT_POLL_WAIT_SECONDS: '1' },
            label: 'installed agent',
        });
        try {
            await agent.waitFor(/agent started/);
            // the vault saw the agent (signed long-polls with the enrolled key)
            await waitFor(async () => {
                const list = jsonOf(await vault.sk(['machine', 'list', '--json']));
                return list.machines.find((x) => x.name === 'host-web-1')?.lastSeenAt ?? null;
            }, { what: 'the vault to record host-web-1 as seen', timeoutMs: 30_000, intervalMs: 300, until: (seen) => seen !== null, show: (seen) => `lastSeenAt ${seen}` });
        }
        finally {
            await agent.stop();
        }
    });
    test('the unit\'s enroll-on-start step: nothing with a key, a clear refusal without key and token, an enrollment with a credential', async () => {
        const line = readFileSync(UNIT, 'utf8').split('\n').find((l) => l.startsWith('ExecStartPre=')) ?? assert.fail('no ExecStartPre');
        // what systemd runs: $$ is its escape for a literal $
        const m = /^ExecStartPre=\/bin\/sh -c '(.*)'$/.exec(line.replaceAll('$$', '$')) ?? assert.fail(`unexpected ExecStartPre: ${line}`);
        const script = m[1].replaceAll('/usr/local/bin/sikkerkey-agent', bin);
        const creds = join(work, 'credentials');
        mkdirSync(creds, { recursive: true });
        const keyFile = join(work, 'unit-test.key');
        const runPre = () => sh('/bin/sh', ['-c', script], { env: { SIKKERKEY_URL: vault.url, SIKKERKEY_AGENT_KEY_FILE: keyFile, CREDENTIALS_DIRECTORY: creds } });
        writeFileSync(join(creds, 'enrollment-token'), '');
        const none = runPre();
        assert.equal(none.status, 1);
        assert.match(none.stderr, /no machine key and no enrollment token/);
        writeFileSync(join(creds, 'enrollment-token'), await newToken());
        const enrolled = runPre();
        assert.equal(enrolled.status, 0, enrolled.stderr);
        assert.match(enrolled.stdout, /^enrolled as host-/m);
        assert.equal(statSync(keyFile).mode & 0o777, 0o600);
        const withKey = runPre();
        assert.equal(withKey.status, 0);
        assert.equal(withKey.stdout + withKey.stderr, '', 'with a key it does nothing');
    });
    test('EC2 user-data drives the same bootstrap: downloads the bundle, checks its SHA-256, reads the token from SSM, enrolls', async () => {
        const ec2Root = makeRoot();
        const stubs = join(work, 'stubs');
        mkdirSync(stubs, { recursive: true });
        try {
            // the bundle exactly as user-data.sh's header says to make it
            const bundle = join(work, 'bundle.tar.gz');
            // (gzip -1: the same format, without spending seconds compressing 90 MB in a test)
            const tar = sh('tar', ['--use-compress-program=gzip -1', '-cf', bundle, '-C', join(bin, '..'), 'sikkerkey-agent', '-C', join(REPO_ROOT, 'packaging', 'systemd'), 'bootstrap.sh', 'sikkerkey-agent.service']);
            assert.equal(tar.status, 0, tar.stderr);
            const ssmToken = await newToken();
            writeFileSync(join(work, 'ssm-token'), ssmToken, { mode: 0o600 });
            // curl answers IMDSv2 and the download from local files; aws answers ssm get-parameter
            writeFileSync(join(stubs, 'curl'), `#!/bin/sh
case "$*" in
  *api/token*) echo imds-session ;;
  *meta-data/instance-id*) echo i-0123456789abcdef0 ;;
  *meta-data/placement/region*) echo eu-north-1 ;;
  *-o\\ bundle.tar.gz*) cp '${bundle}' bundle.tar.gz ;;
  *) echo "unexpected curl $*" >&2; exit 22 ;;
esac
`, { mode: 0o755 });
            writeFileSync(join(stubs, 'aws'), `#!/bin/sh
[ "$1 $2" = "ssm get-parameter" ] || { echo "unexpected aws $*" >&2; exit 1; }
cat '${join(work, 'ssm-token')}'
`, { mode: 0o755 });
            const sha = createHash('sha256').update(readFileSync(bundle)).digest('hex');
            const env = { PATH: `${stubs}:${process.env.PATH ?? '/usr/bin:/bin'}`, SIKKERKEY_BOOTSTRAP_ROOT: ec2Root, VAULT_URL: vault.url, AGENT_BUNDLE_SHA256: sha };
            const bad = sh('bash', [USER_DATA], { env: { ...env, AGENT_BUNDLE_SHA256: '0'.repeat(64) } });
            assert.notEqual(bad.status, 0, 'a bundle with the wrong checksum is refused');
            assert.match(bad.stdout + bad.stderr, /checksum mismatch/);
            assert.equal(existsSync(join(ec2Root, 'usr', 'local', 'bin', 'sikkerkey-agent')), false);
            const r = sh('bash', [USER_DATA], { env });
            assert.equal(r.status, 0, r.stderr + r.stdout);
            assert.match(r.stdout, /enrolled: \{.*"name":"host-i-0123456789abcdef0"/);
            assert.equal(statSync(join(ec2Root, 'var', 'lib', 'sikkerkey-agent', 'agent.key')).mode & 0o777, 0o600);
            assert.ok(lstatSync(join(ec2Root, 'etc', 'systemd', 'system', 'multi-user.target.wants', 'sikkerkey-agent.service')).isSymbolicLink());
        }
        finally {
            rmSync(ec2Root, { recursive: true, force: true });
        }
    });
});
test('every packaging shell script is shellcheck-clean', () => {
    const scripts = [BOOTSTRAP, USER_DATA];
    const r = sh('shellcheck', ['--severity=style', ...scripts]);
    assert.equal(r.error, undefined, 'shellcheck is installed (.ci/run installs it)');
    assert.equal(r.status, 0, r.stdout + r.stderr);
    for (const s of scripts)
        assert.match(readFileSync(s, 'utf8'), /^set -euo pipefail$/m, `${s} runs with set -euo pipefail`);
});
//# sourceMappingURL=systemd.test.js.map