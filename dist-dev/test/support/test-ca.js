/**
 * A throwaway certificate authority made by the test with the `openssl` command: a CA, and server
 * (or client) certificates it signs, written as PEM files in a temporary directory. Test support
 * only; `cleanup()` deletes every key. Default server names: 127.0.0.1 and localhost.
 *
 * @example
 *   const ca = makeTestCa();
 *   after(() => ca.cleanup());
 *   const server = ca.issue();                       // SAN 127.0.0.1, localhost
 *   startBin('sikkerkey-vault', ['serve', '--tls-cert', server.certFile, '--tls-key', server.keyFile, …]);
 *   new VaultClient({ url, key, caFile: ca.caFile, pinSha256: server.spkiSha256 });
 */
import { execFileSync } from 'node:child_process';
import { X509Certificate, createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
function openssl(args, cwd) {
    execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}
/** base64 SHA-256 of a PEM certificate's SubjectPublicKeyInfo. */
export function spkiSha256Of(certPem) {
    const spki = new X509Certificate(certPem).publicKey.export({ type: 'spki', format: 'der' });
    return createHash('sha256').update(spki).digest('base64');
}
export function makeTestCa(label = 'SikkerKey test CA') {
    const dir = mkdtempSync(join(tmpdir(), 'sk-test-ca-'));
    openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt',
        '-days', '2', '-subj', `/CN=${label}`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
    let serial = 0;
    return {
        dir,
        caFile: join(dir, 'ca.crt'),
        issue(opts = {}) {
            serial += 1;
            const names = opts.names ?? ['127.0.0.1', 'localhost'];
            const base = `${opts.client ? 'client' : 'server'}-${serial}`;
            const san = names.map((n) => (/^[0-9.]+$|:/.test(n) ? `IP:${n}` : `DNS:${n}`)).join(',');
            writeFileSync(join(dir, `${base}.ext`), [
                `subjectAltName=${san}`, 'basicConstraints=CA:FALSE', 'keyUsage=digitalSignature,keyEncipherment',
                `extendedKeyUsage=${opts.client ? 'clientAuth' : 'serverAuth'}`, '',
            ].join('\n'));
            openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${base}.key`, '-out', `${base}.csr`, '-subj', `/CN=${names[0] ?? base}`], dir);
            openssl(['x509', '-req', '-in', `${base}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-set_serial', String(1000 + serial),
                '-out', `${base}.crt`, '-days', String(opts.days ?? 2), '-extfile', `${base}.ext`], dir);
            const certFile = join(dir, `${base}.crt`);
            const keyFile = join(dir, `${base}.key`);
            const cert = readFileSync(certFile, 'utf8');
            return {
                certFile, keyFile, cert, key: readFileSync(keyFile, 'utf8'),
                spkiSha256: spkiSha256Of(cert),
                fingerprint256: new X509Certificate(cert).fingerprint256,
            };
        },
        cleanup() {
            rmSync(dir, { recursive: true, force: true });
        },
    };
}
//# sourceMappingURL=test-ca.js.map