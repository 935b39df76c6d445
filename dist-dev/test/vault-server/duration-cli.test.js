// Duration flags through the real CLI against a real vault: `--timeout 1s` is honoured (it once
// parsed to no timeout at all, and `--wait` waited forever), and a malformed duration is a usage
// error naming the flag before anything reaches the vault.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { jsonOf } from '../support/processes.js';
import { startVaultProcess } from '../support/vault-process.js';
let vault;
const DB = JSON.stringify({ host: '127.0.0.1', port: '5432', username: 'app', password: 'not-a-real-one' });
const ADMIN = JSON.stringify({ host: '127.0.0.1', port: '5432', username: 'admin', password: 'not-a-real-one-either' });
const SET = ['rotation', 'set', 'shop', 'db', '--provider', 'postgres', '--agent-label', 'nobody-runs-this', '--admin-secret', 'admin'];
before(async () => {
    vault = await startVaultProcess();
    jsonOf(await vault.sk(['project', 'create', 'shop', '--json']));
    jsonOf(await vault.sk(['secret', 'set', 'shop', 'db', '--fields-json', DB, '--json']));
    jsonOf(await vault.sk(['secret', 'set', 'shop', 'admin', '--fields-json', ADMIN, '--json']));
});
after(async () => {
    await vault?.close();
});
test('a malformed duration is SK_ERR_USAGE naming the flag and the accepted forms, and nothing is sent', async () => {
    for (const [flag, value] of [['--grace', '1h30m'], ['--timeout', '60x']]) {
        const r = await vault.sk([...SET, flag, value, '--wait', '--json']);
        assert.equal(r.code, 2, r.stderr);
        assert.equal(r.stdout, '');
        assert.match(r.stderr, new RegExp(`^error SK_ERR_USAGE: ${flag}: "${value}" is not a duration; use 90 \\(seconds\\), 90s, 10m, 2h, 30d or 500ms\\n$`));
    }
    const run = await vault.sk(['rotation', 'run', 'shop', 'db', '--wait', '--timeout', '2 minutes', '--json']);
    assert.match(run.stderr, /^error SK_ERR_USAGE: --timeout: "2 minutes" is not a duration/);
    const r = await vault.sk(['rotation', 'list', '--json']);
    assert.deepEqual(jsonOf(r).policies, [], 'no policy was saved');
    const token = await vault.sk(['enroll-token', 'create', '--project', 'shop', '--machine-lifetime', '2w', '--json']);
    assert.match(token.stderr, /^error SK_ERR_USAGE: --machine-lifetime: "2w" is not a duration/);
});
test('--wait --timeout 1s gives up after about a second (no agent will ever run the preflight)', async () => {
    const started = Date.now();
    const r = await vault.sk([...SET, '--grace', '10m', '--wait', '--timeout', '1s', '--json']);
    const elapsed = Date.now() - started;
    assert.equal(r.code, 3, `not promoted: exit 3\n${r.stderr}`);
    const out = JSON.parse(r.stdout);
    assert.equal(out.preflight.state, 'pending', 'it stopped waiting while the job was still pending');
    // 1 s of waiting plus the CLI's start and a few requests; a `--timeout` that parsed to nothing
    // would have waited until runBin's own 30 s limit killed it.
    assert.ok(elapsed >= 1000 && elapsed < 15_000, `returned after ${elapsed} ms`);
});
//# sourceMappingURL=duration-cli.test.js.map