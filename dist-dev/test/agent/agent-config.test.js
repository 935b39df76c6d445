// The agent's configuration: validated once and frozen, JSON or YAML, SIKKERKEY_AGENT_* beats the
// file which beats SIKKERKEY_URL, unknown keys rejected with the nearest valid name — and the
// daemon refuses a key file that group or others can read.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadAgentConfig } from '../../agent/config.js';
import { AgentDaemon } from '../../agent/runtime/agent-daemon.js';
import { generateIdentityKey, writePrivateKeyFile } from '../../protocol/keys.js';
import { isSikkerKeyError } from '../../protocol/errors.js';
const dir = mkdtempSync(join(tmpdir(), 'sk-agent-config-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
function file(name, text) {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
}
const isConfigError = (re) => (err) => isSikkerKeyError(err, 'SK_ERR_CONFIG') && re.test(err.message);
test('a YAML and a JSON file give the same frozen configuration with defaults applied', () => {
    const yaml = loadAgentConfig(file('a.yaml', 'vaultUrl: https://vault.example:8200\nkeyFile: /etc/sk/agent.key\nhealth:\n  listen: 127.0.0.1:9999\n'), {});
    const json = loadAgentConfig(file('a.json', JSON.stringify({ vaultUrl: 'https://vault.example:8200', keyFile: '/etc/sk/agent.key', health: { listen: '127.0.0.1:9999' } })), {});
    assert.deepEqual(yaml, json);
    assert.equal(yaml.concurrency, 1);
    assert.equal(yaml.log.level, 'info');
    assert.equal(yaml.pollWaitSeconds, 30);
    assert.ok(Object.isFrozen(yaml) && Object.isFrozen(yaml.health) && Object.isFrozen(yaml.log));
});
test('SIKKERKEY_AGENT_* overrides the file, and the file beats the generic SIKKERKEY_URL', () => {
    const f = file('b.json', JSON.stringify({ vaultUrl: 'https://from-file:8200', keyFile: '/k' }));
    assert.equal(loadAgentConfig(f, { SIKKERKEY_URL: 'https://generic:8200' }).vaultUrl, 'https://from-file:8200');
    const env = { SIKKERKEY_URL: 'https://generic:8200', SIKKERKEY_AGENT_VAULT_URL: 'https://from-env:8200', SIKKERKEY_AGENT_CONCURRENCY: '4', SIKKERKEY_AGENT_HEALTH_LISTEN: '0.0.0.0:9464' };
    const c = loadAgentConfig(f, env);
    assert.equal(c.vaultUrl, 'https://from-env:8200');
    assert.equal(c.concurrency, 4);
    assert.equal(c.health.listen, '0.0.0.0:9464');
    assert.equal(loadAgentConfig(file('c.json', JSON.stringify({ keyFile: '/k' })), { SIKKERKEY_URL: 'https://generic:8200' }).vaultUrl, 'https://generic:8200');
});
test('unknown keys are rejected with the nearest valid name; bad values say what is wrong', () => {
    assert.throws(() => loadAgentConfig(file('d.json', JSON.stringify({ vaultUrl: 'https://v', keyFile: '/k', vaultUlr: 'x' })), {}), isConfigError(/unknown setting vaultUlr: did you mean vaultUrl\?/));
    assert.throws(() => loadAgentConfig(file('e.yaml', 'vaultUrl: https://v\nkeyFile: /k\nhealth:\n  listn: 1.2.3.4:1\n'), {}), isConfigError(/health\.listn: did you mean health\.listen\?/));
    assert.throws(() => loadAgentConfig(file('f.json', JSON.stringify({ vaultUrl: 'https://v', keyFile: '/k', concurrency: 0 })), {}), isConfigError(/concurrency must be a whole number from 1 to 16/));
    assert.throws(() => loadAgentConfig(file('g.json', JSON.stringify({ vaultUrl: 'https://v' })), {}), isConfigError(/keyFile is required/));
    assert.throws(() => loadAgentConfig(file('h.yaml', 'vaultUrl: [unclosed\n'), {}), isConfigError(/is not valid YAML/));
    assert.throws(() => loadAgentConfig(join(dir, 'missing.yaml'), {}), isConfigError(/cannot read the config file/));
});
test('labels are refused in the file and in SIKKERKEY_AGENT_LABELS, naming where labels come from', () => {
    // The vault matches --agent-label policies against the labels the enrollment token gave the
    // machine; an agent-side list would only pretend to matter.
    const refused = isConfigError(/no labels setting.*sikkerkey enroll-token create --label/);
    const withLabels = file('l.yaml', 'vaultUrl: https://v\nkeyFile: /k\nlabels: [rotator]\n');
    assert.throws(() => loadAgentConfig(withLabels, {}), (err) => refused(err) && err.message.includes(`labels from ${withLabels}`));
    const plain = file('m.yaml', 'vaultUrl: https://v\nkeyFile: /k\n');
    assert.throws(() => loadAgentConfig(plain, { SIKKERKEY_AGENT_LABELS: 'rotator' }), (err) => refused(err) && /SIKKERKEY_AGENT_LABELS/.test(err.message));
    assert.equal('labels' in loadAgentConfig(plain, {}), false);
});
test('the daemon refuses a key file that group or others can read, naming chmod 600', () => {
    const key = join(dir, 'agent.key');
    writePrivateKeyFile(key, generateIdentityKey().privateKey);
    chmodSync(key, 0o640);
    const config = loadAgentConfig(file('i.json', JSON.stringify({ vaultUrl: 'http://127.0.0.1:1', keyFile: key })), {});
    assert.throws(() => new AgentDaemon(config), (err) => isSikkerKeyError(err, 'SK_ERR_KEY_FILE') && /chmod 600/.test(err.message));
    chmodSync(key, 0o600);
    assert.doesNotThrow(() => new AgentDaemon(config));
});
//# sourceMappingURL=agent-config.test.js.map