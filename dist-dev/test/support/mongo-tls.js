/**
 * Test-made TLS material for the MongoDB wire test server: a throw-away CA and server
 * certificates signed by it, generated with the `openssl` CLI into a temporary directory.
 * Test support only; the keys never leave the test's temp dir and are deleted by `cleanup()`.
 *
 * @example
 *   const pki = makeTestPki();
 *   const srv = await MongoWireTestServer.start({ tls: pki.server('127.0.0.1') });
 *   // … a client with caFile = pki.caFile …
 *   pki.cleanup();
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
function openssl(args, cwd) {
    execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}
export function makeTestPki(label = 'SikkerKey test CA') {
    const dir = mkdtempSync(join(tmpdir(), 'sk-mongo-pki-'));
    openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', `/CN=${label}`], dir);
    let serial = 0;
    return {
        caFile: join(dir, 'ca.crt'),
        server(...names) {
            serial += 1;
            const base = `server-${serial}`;
            const san = names.map((n) => (/^[0-9.]+$|:/.test(n) ? `IP:${n}` : `DNS:${n}`)).join(',');
            writeFileSync(join(dir, `${base}.ext`), `subjectAltName=${san}\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n`);
            openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${base}.key`, '-out', `${base}.csr`, '-subj', `/CN=${names[0] ?? 'server'}`], dir);
            openssl(['x509', '-req', '-in', `${base}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-set_serial', String(1000 + serial), '-out', `${base}.crt`, '-days', '2', '-extfile', `${base}.ext`], dir);
            return { key: readFileSync(join(dir, `${base}.key`), 'utf8'), cert: readFileSync(join(dir, `${base}.crt`), 'utf8') };
        },
        cleanup() {
            rmSync(dir, { recursive: true, force: true });
        },
    };
}
//# sourceMappingURL=mongo-tls.js.map