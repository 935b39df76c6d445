// The application in the traffic test, run as its own process: it follows its database
// credential through the client library (VaultClient.watch) and opens a new connection with the
// credential it currently holds every few milliseconds, counting logins that worked and failed.
// Env: SK_URL, SK_KEY_FILE, SK_ENGINE, SK_INTERVAL_MS. It prints `version N` each time the watch
// delivers a version (so the test can wait for it), and on SIGTERM one JSON line of counts.
import { VaultClient } from '../../protocol/client.js';
import { readPrivateKeyFile } from '../../protocol/keys.js';
import { loginWithFields } from '../support/engine-fixtures.js';
const env = (name) => {
    const v = process.env[name];
    if (!v)
        throw new Error(`${name} is required`);
    return v;
};
const engine = env('SK_ENGINE');
const key = readPrivateKeyFile(env('SK_KEY_FILE'));
const vault = new VaultClient({ url: env('SK_URL'), key: { keyId: key.keyId, privateKey: key.privateKey } });
const interval = Number(process.env.SK_INTERVAL_MS ?? '5');
const stop = new AbortController();
let current;
const counts = { ok: 0, failed: 0, errors: 0, versions: 0 };
const errors = new Map();
process.on('SIGTERM', () => stop.abort());
const watching = (async () => {
    for await (const v of vault.watch('db', 'app', { signal: stop.signal, waitSeconds: 10 })) {
        current = v.fields;
        counts.versions += 1;
        process.stdout.write(`version ${v.version}\n`);
    }
})().catch((err) => { if (!stop.signal.aborted)
    process.stderr.write(`watch ended: ${String(err)}\n`); });
// No deadline of its own: the test gives the app 30 s to print "app ready" and kills it otherwise.
while (!current && !stop.signal.aborted)
    await new Promise((r) => setTimeout(r, 10));
process.stdout.write('app ready\n');
while (!stop.signal.aborted) {
    const fields = current;
    try {
        if (await loginWithFields(engine, fields))
            counts.ok += 1;
        else
            counts.failed += 1;
    }
    catch (err) {
        counts.errors += 1;
        const m = err instanceof Error ? err.message.slice(0, 80) : String(err);
        errors.set(m, (errors.get(m) ?? 0) + 1);
    }
    await new Promise((r) => setTimeout(r, interval));
}
await watching;
process.stdout.write(JSON.stringify({ ...counts, errorKinds: Object.fromEntries(errors) }) + '\n');
process.exit(0);
//# sourceMappingURL=traffic-app.js.map