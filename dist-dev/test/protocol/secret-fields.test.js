/**
 * The secret-bearing field names (protocol/secret-fields.ts) drive both loggers' redaction: a
 * whole claim response and a secret read, logged through the agent's and the vault's logger,
 * leave no password in the output.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { SECRET_FIELD_NAMES } from '../../protocol/secret-fields.js';
import { createLogger } from '../../vault-server/logging.js';
const SECRETS = ['PENDING-pw-7f3a', 'LIVE-pw-91c2', 'RETIRE-pw-c0de', 'ADMIN-pw-5e11', 'TARGET-pw-a11e', 'VALUE-9d8e', 'FIELD-pw-4b4b'];
const claim = {
    id: 'rot-1', kind: 'rotate', project: 'shop', secret: 'db', engine: 'redis', strategy: 'dual', flavour: 'redis', fence: 3, leaseSeconds: 30,
    attempt: 1, maybeApplied: false, username: 'app_user',
    pendingPassword: 'PENDING-pw-7f3a', livePassword: 'LIVE-pw-91c2',
    admin: { host: '127.0.0.1', port: '5432', username: 'postgres', password: 'ADMIN-pw-5e11' },
    target: { host: '127.0.0.1', port: '5432', username: 'app_user', password: 'TARGET-pw-a11e' },
};
const retire = {
    id: 'rot-2', kind: 'retire', project: 'shop', secret: 'db', engine: 'redis', strategy: 'dual', flavour: 'redis', fence: 1, leaseSeconds: 30,
    attempt: 1, username: 'app_user', livePassword: 'LIVE-pw-91c2', retirePassword: 'RETIRE-pw-c0de',
    admin: { host: '127.0.0.1', port: '5432', username: 'postgres', password: 'ADMIN-pw-5e11' },
    target: { host: '127.0.0.1', port: '5432', username: 'app_user', password: 'TARGET-pw-a11e' },
};
const reads = [
    { project: 'shop', name: 'token', version: 2, value: 'VALUE-9d8e' },
    { project: 'shop', name: 'db', version: 5, fields: { username: 'app_user', password: 'FIELD-pw-4b4b' } },
];
/** Each way code logs such an object: as the log object itself, and under a key. */
const LOGGED = [
    ['claim', claim], ['job', { job: claim }], ['retire', retire], ['retire job', { job: retire }],
    ['read', reads[0]], ['read-fields', reads[1]], ['nested reads', { read: reads[0], other: reads[1] }],
];
function assertNoSecret(output, who) {
    // The lines were written, with their harmless fields.
    assert.match(output, /app_user|shop/, `${who}: nothing was logged`);
    for (const secret of SECRETS)
        assert.ok(!output.includes(secret), `${who} logged ${secret}:\n${output}`);
    assert.match(output, /\[redacted\]/);
}
test('the list names every credential field of the claim response and of a secret read', () => {
    for (const name of ['pendingPassword', 'livePassword', 'retirePassword', 'admin', 'target', 'value', 'fields', 'password', 'token']) {
        assert.ok(SECRET_FIELD_NAMES.includes(name), name);
    }
    for (const harmless of ['id', 'username', 'project', 'secret', 'engine', 'fence'])
        assert.ok(!SECRET_FIELD_NAMES.includes(harmless), harmless);
});
test('the vault logger writes no password of a claim response or a secret read', () => {
    let output = '';
    const destination = new Writable({ write(chunk, _enc, done) { output += chunk.toString(); done(); } });
    const log = createLogger({ level: 'info', destination });
    for (const [what, obj] of LOGGED)
        log.info(obj, what);
    assert.equal(output.trim().split('\n').length, LOGGED.length);
    assertNoSecret(output, 'the vault logger');
});
test('the agent logger writes no password of a claim response or a secret read', () => {
    // The agent's logger writes to stdout: a child process logs, this test reads its output.
    const daemon = new URL('../../agent/runtime/agent-daemon.js', import.meta.url).href;
    const script = `
    const { createAgentLogger } = await import(${JSON.stringify(daemon)});
    const log = createAgentLogger('info');
    for (const [what, obj] of JSON.parse(process.argv[1])) log.info(obj, what);
  `;
    const output = execFileSync(process.execPath, ['--input-type=module', '-e', script, JSON.stringify(LOGGED)], {
        encoding: 'utf8', cwd: fileURLToPath(new URL('.', import.meta.url)), timeout: 30_000,
    });
    assert.equal(output.trim().split('\n').length, LOGGED.length);
    assertNoSecret(output, 'the agent logger');
});
//# sourceMappingURL=secret-fields.test.js.map