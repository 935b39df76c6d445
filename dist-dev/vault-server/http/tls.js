/**
 * TLS for the vault's listener: TLS 1.2 or newer, forward-secret AEAD suites only, an optional
 * client CA (client certificates then become mandatory), and a certificate reload on SIGHUP that
 * swaps the secure context for new handshakes while every open connection — a held long-poll
 * included — keeps the session it has.
 *
 * @example
 *   const files = { cert: '/etc/sikkerkey/vault.crt', key: '/etc/sikkerkey/vault.key' };
 *   const { app } = await buildApp({ …, https: tlsServerOptions(files) });
 *   process.on('SIGHUP', () => reloadTls(app.server as unknown as ReloadableServer, files, log));
 */
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { SikkerKeyError } from '../../protocol/errors.js';
/**
 * TLS 1.3 suites, then TLS 1.2 ECDHE with AES-GCM or ChaCha20-Poly1305 (Mozilla's "intermediate"
 * list without the finite-field DHE suites): forward secrecy and AEAD only, no CBC, no RSA key
 * exchange, no SHA-1 MACs.
 */
export const TLS_CIPHERS = [
    'TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256',
    'ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES128-GCM-SHA256',
    'ECDHE-ECDSA-AES256-GCM-SHA384', 'ECDHE-RSA-AES256-GCM-SHA384',
    'ECDHE-ECDSA-CHACHA20-POLY1305', 'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');
export const TLS_MIN_VERSION = 'TLSv1.2';
function readPem(file, what) {
    try {
        return readFileSync(file, 'utf8');
    }
    catch (err) {
        throw new SikkerKeyError('SK_ERR_CONFIG', `cannot read the TLS ${what} ${file}: ${err.code ?? 'error'}`);
    }
}
/**
 * Reads the files and builds the secure-context options, checking that they load together (a
 * key that does not match the certificate, or a file that is not PEM, is SK_ERR_CONFIG naming the
 * files — never their contents).
 */
export function loadTlsContext(files) {
    const options = {
        cert: readPem(files.cert, 'certificate'),
        key: readPem(files.key, 'key'),
        ...(files.clientCa !== undefined ? { ca: readPem(files.clientCa, 'client CA') } : {}),
        minVersion: TLS_MIN_VERSION,
        ciphers: TLS_CIPHERS,
        honorCipherOrder: true,
    };
    try {
        createSecureContext(options);
    }
    catch (err) {
        const reason = err.code ?? (err instanceof Error ? err.message.split('\n')[0] : 'error');
        throw new SikkerKeyError('SK_ERR_CONFIG', `the TLS certificate ${files.cert} and key ${files.key}${files.clientCa ? ` (client CA ${files.clientCa})` : ''} do not load together: ${reason}`);
    }
    return options;
}
/** Options for `https.createServer` / fastify's `https`. */
export function tlsServerOptions(files) {
    return {
        ...loadTlsContext(files),
        // With a client CA, a client certificate is required, not merely asked for.
        ...(files.clientCa !== undefined ? { requestCert: true, rejectUnauthorized: true } : { requestCert: false }),
    };
}
/**
 * Re-reads the files and installs them for new handshakes. A failed read (a half-written file,
 * a key that does not match) keeps the previous certificate and says why; it never stops the vault.
 * Returns whether the new certificate is in use.
 */
export function reloadTls(server, files, log) {
    let options;
    try {
        options = loadTlsContext(files);
    }
    catch (err) {
        log.error({ code: err instanceof SikkerKeyError ? err.code : 'error', message: err instanceof Error ? err.message : String(err) }, 'TLS certificate reload failed; the previous certificate stays in use');
        return false;
    }
    server.setSecureContext(options);
    log.info({ cert: files.cert }, 'TLS certificate reloaded');
    return true;
}
//# sourceMappingURL=tls.js.map