import type { SecureContextOptions, TlsOptions } from 'node:tls';
import type { Logger } from 'pino';
export interface TlsFiles {
    /** Certificate chain, leaf first (PEM). */
    cert: string;
    /** Private key (PEM), unencrypted. */
    key: string;
    /** When set, clients must present a certificate issued by this CA (PEM). */
    clientCa?: string | undefined;
}
/**
 * TLS 1.3 suites, then TLS 1.2 ECDHE with AES-GCM or ChaCha20-Poly1305 (Mozilla's "intermediate"
 * list without the finite-field DHE suites): forward secrecy and AEAD only, no CBC, no RSA key
 * exchange, no SHA-1 MACs.
 */
export declare const TLS_CIPHERS: string;
export declare const TLS_MIN_VERSION = "TLSv1.2";
/**
 * Reads the files and builds the secure-context options, checking that they load together (a
 * key that does not match the certificate, or a file that is not PEM, is SK_ERR_CONFIG naming the
 * files — never their contents).
 */
export declare function loadTlsContext(files: TlsFiles): SecureContextOptions;
/** Options for `https.createServer` / fastify's `https`. */
export declare function tlsServerOptions(files: TlsFiles): TlsOptions;
/** The part of `tls.Server` a reload needs. */
export interface ReloadableServer {
    setSecureContext(options: SecureContextOptions): void;
}
/**
 * Re-reads the files and installs them for new handshakes. A failed read (a half-written file,
 * a key that does not match) keeps the previous certificate and says why; it never stops the vault.
 * Returns whether the new certificate is in use.
 */
export declare function reloadTls(server: ReloadableServer, files: TlsFiles, log: Pick<Logger, 'info' | 'error'>): boolean;
