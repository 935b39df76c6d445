// The vault's configuration: file (JSON or YAML), SIKKERKEY_VAULT_* variables and flags, validated
// once; unknown keys named with the nearest valid one; the plaintext-listen rule; check-config.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { envNameOf, isLoopbackHost, loadVaultConfig, VAULT_SETTINGS } from '../../vault-server/config.js';
import { isSikkerKeyError } from '../../protocol/errors.js';
import { nearest } from '../../protocol/config-keys.js';
import { loadAgentConfig } from '../../agent/config.js';
import { runBin } from '../support/processes.js';
import { makeTestCa } from '../support/test-ca.js';
const dir = mkdtempSync(join(tmpdir(), 'sk-ops-config-'));
const ca = makeTestCa();
after(() => {
    rmSync(dir, { recursive: true, force: true });
    ca.cleanup();
});
let n = 0;
function file(contents, ext = 'yaml') {
    const f = join(dir, `c${n++}.${ext}`);
    writeFileSync(f, contents);
    return f;
}
function configError(req) {
    try {
        loadVaultConfig({ env: {}, ...req });
    }
    catch (err) {
        assert.ok(isSikkerKeyError(err, 'SK_ERR_CONFIG'), `expected SK_ERR_CONFIG, got ${String(err)}`);
        return err.message;
    }
    assert.fail('the configuration was accepted');
}
test('a YAML file and a JSON file give the same frozen configuration, with defaults applied', () => {
    const yaml = file('dataDir: /var/lib/sk\nlisten: 127.0.0.1:8300\npublicUrl: [https://vault.example.com]\nlog:\n  level: warn\nrotationLease: 45s\nmetrics:\n  enabled: false\n');
    const json = file(JSON.stringify({ dataDir: '/var/lib/sk', listen: '127.0.0.1:8300', publicUrl: ['https://vault.example.com'], log: { level: 'warn' }, rotationLease: '45s', metrics: { enabled: false } }), 'json');
    const a = loadVaultConfig({ file: yaml, env: {} });
    const b = loadVaultConfig({ file: json, env: {} });
    assert.deepEqual(a, b);
    assert.equal(a.listen, '127.0.0.1:8300');
    assert.equal(a.rotationLeaseSeconds, 45);
    assert.equal(a.metrics.enabled, false);
    assert.equal(a.shutdownTimeoutMs, 10_000, 'default');
    assert.equal(a.tls, undefined);
    assert.ok(Object.isFrozen(a) && Object.isFrozen(a.log) && Object.isFrozen(a.publicUrl));
    const defaults = loadVaultConfig({ env: {}, flags: { dataDir: '/d' } });
    assert.equal(defaults.listen, '127.0.0.1:8200');
    assert.equal(defaults.log.level, 'info');
    assert.equal(defaults.rotationLeaseSeconds, 30);
    assert.equal(defaults.metrics.enabled, true);
});
test('SIKKERKEY_VAULT_* variables override the file, and flags override both', () => {
    const f = file('dataDir: /from/file\nlisten: 127.0.0.1:8301\nlog:\n  level: warn\nallowCidr: [10.0.0.0/8]\n');
    const env = { SIKKERKEY_VAULT_LISTEN: '127.0.0.1:8302', SIKKERKEY_VAULT_LOG_LEVEL: 'debug', SIKKERKEY_VAULT_ALLOW_CIDR: '10.1.0.0/16, 10.2.0.0/16', SIKKERKEY_VAULT_METRICS_ENABLED: 'false' };
    const fromEnv = loadVaultConfig({ file: f, env });
    assert.equal(fromEnv.dataDir, '/from/file');
    assert.equal(fromEnv.listen, '127.0.0.1:8302');
    assert.equal(fromEnv.log.level, 'debug');
    assert.deepEqual(fromEnv.allowCidr, ['10.1.0.0/16', '10.2.0.0/16']);
    assert.equal(fromEnv.metrics.enabled, false);
    const fromFlags = loadVaultConfig({ file: f, env, flags: { listen: '127.0.0.1:8303', logLevel: 'error', allowCidr: ['192.168.0.0/16'] } });
    assert.equal(fromFlags.listen, '127.0.0.1:8303');
    assert.equal(fromFlags.log.level, 'error');
    assert.deepEqual(fromFlags.allowCidr, ['192.168.0.0/16']);
});
test('verifyConcurrency: unset by default (the vault uses 2 × cores × 32); a whole number from the file, a variable or --verify-concurrency; anything else refused', () => {
    assert.equal(loadVaultConfig({ env: { SIKKERKEY_VAULT_DATA_DIR: '/d' } }).verifyConcurrency, undefined);
    assert.equal(loadVaultConfig({ file: file('dataDir: /d\nverifyConcurrency: 64\n') }).verifyConcurrency, 64);
    assert.equal(loadVaultConfig({ env: { SIKKERKEY_VAULT_DATA_DIR: '/d', SIKKERKEY_VAULT_VERIFY_CONCURRENCY: '32' } }).verifyConcurrency, 32);
    assert.equal(loadVaultConfig({ env: { SIKKERKEY_VAULT_DATA_DIR: '/d', SIKKERKEY_VAULT_VERIFY_CONCURRENCY: '32' }, flags: { verifyConcurrency: '8' } }).verifyConcurrency, 8);
    for (const bad of ['0', '-1', '2.5', 'many']) {
        assert.match(configError({ env: { SIKKERKEY_VAULT_DATA_DIR: '/d', SIKKERKEY_VAULT_VERIFY_CONCURRENCY: bad } }), /SIKKERKEY_VAULT_VERIFY_CONCURRENCY must be a whole number/);
    }
    assert.match(configError({ flags: { dataDir: '/d', verifyConcurrency: 'x' } }), /--verify-concurrency must be a whole number/);
});
test('every setting has one variable name, derived from its key', () => {
    assert.equal(envNameOf('tls.clientCa'), 'SIKKERKEY_VAULT_TLS_CLIENT_CA');
    assert.equal(envNameOf('dataDir'), 'SIKKERKEY_VAULT_DATA_DIR');
    assert.equal(envNameOf('databaseUrl'), 'SIKKERKEY_VAULT_DATABASE_URL');
    const names = VAULT_SETTINGS.map((s) => envNameOf(s.key));
    assert.equal(new Set(names).size, names.length);
    // each variable really sets its key: a bad value for it is refused naming the variable
    for (const s of VAULT_SETTINGS.filter((x) => x.kind === 'boolean')) {
        assert.match(configError({ env: { SIKKERKEY_VAULT_DATA_DIR: '/d', [envNameOf(s.key)]: 'maybe' } }), new RegExp(envNameOf(s.key)));
    }
});
test('an unknown key is refused with the nearest valid name, at the top level and inside a section', () => {
    assert.match(configError({ file: file('dataDir: /d\nlisten: 127.0.0.1:1\nlistne: x\n') }), /unknown setting listne: did you mean listen\?/);
    assert.match(configError({ file: file('dataDir: /d\ntls:\n  cert: a\n  key: b\n  clinetCa: c\n') }), /unknown setting tls\.clinetCa: did you mean tls\.clientCa\?/);
    assert.match(configError({ file: file('dataDir: /d\ntlsCert: /x\n') }), /unknown setting tlsCert: did you mean tls\.cert\?/);
    assert.match(configError({ file: file('{"dataDir": "/d", "shutdownTimout": "5s"}', 'json') }), /did you mean shutdownTimeout\?/);
    assert.match(configError({ file: file('dataDir: /d\nlog: debug\n') }), /log must be an object/);
    assert.match(configError({ file: file('- a\n- b\n') }), /must hold an object/);
    assert.match(configError({ file: file('dataDir: [unclosed\n') }), /is not valid YAML/);
    assert.match(configError({ file: join(dir, 'absent.yaml') }), /cannot read the config file .*ENOENT/);
});
test('the agent config shares the same nearest-name helper (moved into protocol/)', () => {
    assert.equal(nearest('vaultUlr', ['vaultUrl', 'keyFile']), 'vaultUrl');
    const f = file(JSON.stringify({ vaultUrl: 'https://v.example.com', keyFile: '/k', pollWaitSecond: 3 }), 'json');
    assert.throws(() => loadAgentConfig(f, {}), /did you mean pollWaitSeconds\?/);
});
test('an unknown SIKKERKEY_VAULT_ variable is ignored with a warning naming the nearest one', () => {
    const c = loadVaultConfig({ env: { SIKKERKEY_VAULT_DATA_DIR: '/d', SIKKERKEY_VAULT_TLS_CRT: '/x' } });
    assert.equal(c.tls, undefined);
    assert.deepEqual(c.warnings, ['SIKKERKEY_VAULT_TLS_CRT is not a setting and is ignored (did you mean SIKKERKEY_VAULT_TLS_CERT?)']);
});
test('values are validated: store location, durations, levels, CIDRs, listen syntax, TLS pairs', () => {
    assert.match(configError({}), /where is the store\?/);
    assert.match(configError({ flags: { dataDir: '/a', databaseUrl: 'postgres://x' } }), /either dataDir .* or databaseUrl/);
    assert.match(configError({ flags: { dataDir: '/a', rotationLease: '0s' } }), /--rotation-lease must be between 1s and 10m/);
    assert.match(configError({ flags: { dataDir: '/a', shutdownTimeout: 'soon' } }), /--shutdown-timeout: "soon" is not a duration/);
    assert.match(configError({ flags: { dataDir: '/a', logLevel: 'loud' } }), /--log-level must be one of/);
    assert.match(configError({ flags: { dataDir: '/a', allowCidr: ['10.0.0.0/33'] } }), /is not a CIDR/);
    assert.match(configError({ flags: { dataDir: '/a', listen: 'vault:http' } }), /expected host:port or unix:PATH/);
    assert.match(configError({ flags: { dataDir: '/a', tlsCert: '/c' } }), /needs its private key too: give --tls-key/);
    assert.match(configError({ flags: { dataDir: '/a', tlsKey: '/k' } }), /needs a certificate too: give --tls-cert/);
    assert.match(configError({ flags: { dataDir: '/a', tlsClientCa: '/ca' } }), /needs TLS/);
    assert.match(configError({ flags: { dataDir: '/a', listen: 'unix:/run/sk.sock', tlsCert: '/c', tlsKey: '/k' } }), /a unix: socket is served without it/);
    // a bare number in the file is seconds, as on the command line; anything but the one syntax is refused
    assert.equal(loadVaultConfig({ env: {}, file: file('dataDir: /a\nrotationLease: 5\n') }).rotationLeaseSeconds, 5);
    assert.match(configError({ file: file('dataDir: /a\nrotationLease: true\n') }), /rotationLease in .* must be a duration: 90 \(seconds\), 90s, 10m/);
    assert.match(configError({ file: file('dataDir: /a\nrotationLease: 1.5\n') }), /rotationLease in .*: 1\.5 is not a duration/);
    assert.match(configError({ flags: { dataDir: '/a', rotationLease: '1m30s' } }), /--rotation-lease: "1m30s" is not a duration; use 90 \(seconds\), 90s/);
    assert.match(configError({ file: file('dataDir: /a\ninsecureListen: "yes"\n') }), /insecureListen in .* must be true or false/);
});
test('plain HTTP only on loopback or a unix socket; anything else needs TLS or --insecure-listen, named in the message', () => {
    for (const listen of ['127.0.0.1:8200', '127.9.9.9:1', '[::1]:8200', 'localhost:8200', 'unix:/run/sk.sock']) {
        assert.equal(loadVaultConfig({ env: {}, flags: { dataDir: '/d', listen } }).listen, listen);
    }
    for (const listen of ['0.0.0.0:8200', '[::]:8200', '192.0.2.2:8200', 'vault.internal:8200']) {
        const message = configError({ flags: { dataDir: '/d', listen } });
        assert.match(message, /--insecure-listen/, listen);
        assert.match(message, /plain HTTP on a non-loopback address/);
        const allowed = loadVaultConfig({ env: {}, flags: { dataDir: '/d', listen, insecureListen: true } });
        assert.match(allowed.warnings.join('\n'), /--insecure-listen: serving plain HTTP/);
        assert.equal(loadVaultConfig({ env: {}, flags: { dataDir: '/d', listen, tlsCert: '/c', tlsKey: '/k' } }).warnings.length, 0, 'TLS: fine');
    }
    assert.match(configError({ env: { SIKKERKEY_VAULT_LISTEN: '0.0.0.0:8200' }, flags: { dataDir: '/d' } }), /SIKKERKEY_VAULT_LISTEN 0\.0\.0\.0:8200 .*--insecure-listen/);
    assert.equal(isLoopbackHost('128.0.0.1'), false);
    assert.equal(isLoopbackHost('::2'), false);
});
test('--public-url must be https:// (or loopback), without a path', () => {
    assert.deepEqual(loadVaultConfig({ env: {}, flags: { dataDir: '/d', publicUrl: ['https://vault.example.com', 'http://127.0.0.1:8200'] } }).publicUrl, ['https://vault.example.com', 'http://127.0.0.1:8200']);
    assert.match(configError({ flags: { dataDir: '/d', publicUrl: ['http://vault.example.com'] } }), /clients refuse plain http:\/\//);
    assert.match(configError({ flags: { dataDir: '/d', publicUrl: ['https://vault.example.com/vault'] } }), /without a path/);
    assert.match(configError({ flags: { dataDir: '/d', publicUrl: ['vault.example.com'] } }), /is not a URL/);
});
test('check-config validates a file as serve would and prints the effective settings without the database password', async () => {
    const server = ca.issue();
    const good = file([
        'databaseUrl: postgres://sk:hunter2-not-real@db.internal:5432/sikkerkey',
        'listen: 0.0.0.0:8200',
        'tls:', `  cert: ${server.certFile}`, `  key: ${server.keyFile}`,
        'shutdownTimeout: 20s', '',
    ].join('\n'));
    const r = await runBin('sikkerkey-vault', ['check-config', good, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.valid, true);
    assert.equal(out.config.listen, '0.0.0.0:8200');
    assert.equal(out.config.shutdownTimeoutMs, 20_000);
    assert.equal(r.stdout.includes('hunter2-not-real'), false, 'the database password is masked');
    assert.match(String(out.config.databaseUrl), /\*\*\*/);
    const typo = await runBin('sikkerkey-vault', ['check-config', file('dataDir: /d\nlisten: 127.0.0.1:1\nmetrics:\n  enable: true\n')]);
    assert.notEqual(typo.code, 0);
    assert.match(typo.stderr, /^error SK_ERR_CONFIG: .*unknown setting metrics\.enable: did you mean metrics\.enabled\?/m);
    // A key that does not belong to the certificate: the files are loaded together, not only named.
    const other = ca.issue();
    const mismatched = await runBin('sikkerkey-vault', ['check-config', file(`dataDir: /d\ntls:\n  cert: ${server.certFile}\n  key: ${other.keyFile}\n`)]);
    assert.notEqual(mismatched.code, 0);
    assert.match(mismatched.stderr, /error SK_ERR_CONFIG: the TLS certificate .* do not load together/);
    assert.equal(mismatched.stderr.includes('PRIVATE KEY'), false);
    const plaintext = await runBin('sikkerkey-vault', ['check-config', file('dataDir: /d\nlisten: 0.0.0.0:8200\n')]);
    assert.notEqual(plaintext.code, 0);
    assert.match(plaintext.stderr, /--insecure-listen/);
    const envOverride = await runBin('sikkerkey-vault', ['check-config', file('dataDir: /d\n'), '--json'], { env: { SIKKERKEY_VAULT_LISTEN: '127.0.0.1:9999' } });
    assert.equal(JSON.parse(envOverride.stdout).config.listen, '127.0.0.1:9999');
});
test('serve refuses a plaintext non-loopback listen address before reading the root key, exiting non-zero', async () => {
    const r = await runBin('sikkerkey-vault', ['serve', '--data-dir', join(dir, 'never'), '--listen', '0.0.0.0:0']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /^error SK_ERR_CONFIG: .*--insecure-listen/m);
    const viaConfig = await runBin('sikkerkey-vault', ['serve', '--config', file(`dataDir: ${join(dir, 'never')}\nlisten: "[::]:0"\n`)]);
    assert.notEqual(viaConfig.code, 0);
    assert.match(viaConfig.stderr, /--insecure-listen/);
});
test('docs/operations.md lists every setting with its variable, and no setting that does not exist', () => {
    const doc = readFileSync('docs/operations.md', 'utf8');
    for (const s of VAULT_SETTINGS)
        assert.ok(doc.includes(`| \`${s.key}\` | \`${envNameOf(s.key)}\` |`), `docs/operations.md lacks a row for ${s.key}`);
    const rows = [...doc.matchAll(/^\| `([A-Za-z.]+)` \| `SIKKERKEY_VAULT_/gm)].map((m) => m[1]);
    assert.equal(rows.length, VAULT_SETTINGS.length);
    for (const key of rows)
        assert.ok(VAULT_SETTINGS.some((s) => s.key === key), `docs/operations.md documents ${key}, which is no setting`);
});
//# sourceMappingURL=ops-config.test.js.map