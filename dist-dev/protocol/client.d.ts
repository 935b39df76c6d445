import type { IncomingHttpHeaders } from 'node:http';
import type { SignerKey } from './signing.js';
export type { SignerKey } from './signing.js';
export { SikkerKeyError, isSikkerKeyError } from './errors.js';
export type { ErrorCode } from './errors.js';
export interface VaultClientOptions {
    /** `https://host[:port]`, `http://` to a loopback address only, or `unix:/path/to.sock`. */
    url: string;
    /** The signing key; or give `keyFile` and it is read (and permission-checked) on first use. */
    key?: SignerKey;
    keyFile?: string;
    /**
     * Extra CA certificates (PEM) trusted for the vault's certificate, besides the system ones.
     * Default for https:// URLs: the `SIKKERKEY_CA_FILE` environment variable.
     */
    caFile?: string;
    /**
     * base64 SHA-256 of the vault certificate's SubjectPublicKeyInfo (DER); checked after normal
     * verification. Default for https:// URLs: the `SIKKERKEY_PIN_SHA256` environment variable.
     */
    pinSha256?: string;
    /** Where the `SIKKERKEY_CA_FILE` / `SIKKERKEY_PIN_SHA256` defaults come from (default `process.env`). */
    env?: NodeJS.ProcessEnv;
    /** Per-request deadline in milliseconds (default 30 000). */
    timeoutMs?: number;
    /** The `@authority` to sign for, when it is not the URL's host[:port] (e.g. behind a load balancer). */
    authority?: string;
}
export interface VaultResponse<T> {
    status: number;
    headers: IncomingHttpHeaders;
    body: T;
}
/** What `GET /v1/projects/{project}/secrets/{name}` answers a machine. */
export interface SecretValue {
    project: string;
    name: string;
    version: number;
    value?: string;
    fields?: Record<string, string>;
}
/**
 * Percent-encodes one path segment (encodeURIComponent), plus the dot segments `.` and `..`,
 * which encodeURIComponent leaves alone and a proxy could otherwise collapse.
 *
 * @example
 *   `/v1/projects/${encodePathSegment('my project')}/secrets` // '/v1/projects/my%20project/secrets'
 */
export declare function encodePathSegment(s: string): string;
/**
 * A client for one vault. Construction validates the options (and refuses plain HTTP to anything
 * but loopback) without touching the network.
 *
 * @example
 *   const vault = new VaultClient({ url: 'http://127.0.0.1:8200', key: { keyId, privateKey } });
 *   const { body } = await vault.request<{ projects: unknown[] }>('GET', '/v1/projects');
 */
export declare class VaultClient {
    readonly authority: string;
    private readonly transport;
    private readonly agent;
    private readonly timeoutMs;
    private readonly keyFile;
    private key;
    private readonly pin;
    constructor(opts: VaultClientOptions);
    /** Closes idle keep-alive connections. */
    close(): void;
    private signer;
    /**
     * Sends one signed request. `path` is the raw, already-encoded path and query (use
     * {@link encodePathSegment}); `body`, when given, is sent as JSON.
     * Throws SikkerKeyError: the server's code for an `{"error":{"code":…}}` answer that is not 2xx,
     * SK_ERR_CONNECT when the vault cannot be reached or does not answer in time, SK_ERR_TLS_CERT /
     * SK_ERR_TLS_PIN for certificate failures, SK_ERR_RESPONSE for answers it cannot read.
     * An abort through `signal` rejects with the signal's reason.
     *
     * @example
     *   await vault.request('POST', '/v1/agent/rotations/r1/heartbeat', { fence: 7 });
     */
    request<T = unknown>(method: string, path: string, body?: unknown, opts?: {
        signal?: AbortSignal;
        timeoutMs?: number;
    }): Promise<VaultResponse<T>>;
    private attempt;
    /**
     * Reads a secret as a machine: `GET /v1/projects/{project}/secrets/{name}`.
     *
     * @example
     *   const { value, fields } = await vault.getSecret('payments', 'db-main');
     */
    getSecret(project: string, name: string): Promise<SecretValue>;
    /**
     * Follows a secret: yields its live value now, then again each time a newer version becomes
     * live (a rotation's promotion, an operator's write), within about a second. Each wait is one
     * signed long-poll (`?waitForVersionAfter=N&wait=…`, 304 when nothing changed); errors are
     * retried with backoff, and the loop ends when `signal` aborts.
     *
     * @example
     *   for await (const db of vault.watch('shop', 'db', { signal })) pool.reconfigure(db.fields);
     */
    watch(project: string, name: string, opts?: {
        signal?: AbortSignal;
        waitSeconds?: number;
        afterVersion?: number;
    }): AsyncGenerator<SecretValue>;
}
