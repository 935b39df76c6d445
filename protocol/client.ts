/**
 * The signed HTTP client: what the CLI, the agent and applications (`sikkerkey/client`) use to
 * talk to a vault. Every request is signed with the caller's Ed25519 key (docs/protocol.md);
 * node:http/node:https are used directly so the request target on the wire is byte for byte the
 * one that was signed.
 *
 * @example
 *   import { VaultClient } from 'sikkerkey/client';
 *   const vault = new VaultClient({ url: 'https://vault.example.com:8200', keyFile: '/etc/app/vault.key' });
 *   const { value } = await vault.getSecret('payments', 'stripe-api-key');
 */
import http from 'node:http';
import https from 'node:https';
import { lookup as dnsLookup } from 'node:dns';
import type { LookupAddress } from 'node:dns';
import { isIP } from 'node:net';
import { rootCertificates, checkServerIdentity as tlsCheckServerIdentity } from 'node:tls';
import type { PeerCertificate } from 'node:tls';
import type { IncomingHttpHeaders } from 'node:http';
import { X509Certificate, createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { SikkerKeyError, isErrorCode, isSikkerKeyError } from './errors.js';
import { readPrivateKeyFile } from './keys.js';
import { signRequest } from './signing.js';
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
  /**
   * true when the vault asks that the value be kept no longer than its use (a secret under an
   * access policy): the agent's offline cache never stores it.
   */
  noStore?: boolean;
}

const DEFAULT_TIMEOUT_MS = 30_000;
/** Largest answer read; a secret or a page of a list is far smaller. */
const MAX_RESPONSE_BYTES = 8 * 1024 * 1024;

/**
 * Percent-encodes one path segment (encodeURIComponent), plus the dot segments `.` and `..`,
 * which encodeURIComponent leaves alone and a proxy could otherwise collapse.
 *
 * @example
 *   `/v1/projects/${encodePathSegment('my project')}/secrets` // '/v1/projects/my%20project/secrets'
 */
export function encodePathSegment(s: string): string {
  if (s === '.' || s === '..') return s.replaceAll('.', '%2E');
  return encodeURIComponent(s);
}

function isLoopbackAddress(address: string): boolean {
  if (isIP(address) === 4) return address.split('.')[0] === '127';
  if (isIP(address) === 6) return address === '::1' || address === '0:0:0:0:0:0:0:1';
  return false;
}

/**
 * A DNS lookup for `http://localhost` that only ever yields loopback addresses, so a hosts-file or
 * resolver surprise cannot turn plain-text HTTP towards another machine.
 */
function loopbackOnlyLookup(
  hostname: string,
  options: { all?: boolean; family?: number | string },
  callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
): void {
  dnsLookup(hostname, { ...options, all: true } as { all: true }, (err, addresses) => {
    if (err) return callback(err, options.all === true ? [] : '');
    const ok = addresses.filter((a) => isLoopbackAddress(a.address));
    const first = ok[0];
    if (first === undefined) {
      return callback(new SikkerKeyError('SK_ERR_INSECURE_TRANSPORT', `${hostname} does not resolve to a loopback address: plain http:// refused`), options.all === true ? [] : '');
    }
    if (options.all === true) callback(null, ok);
    else callback(null, first.address, first.family);
  });
}

function parsePin(text: string, name: string): Buffer {
  const pin = Buffer.from(text, 'base64');
  if (pin.length !== 32 || pin.toString('base64') !== text) {
    throw new SikkerKeyError('SK_ERR_CONFIG', `${name} must be the base64 SHA-256 (32 bytes) of the certificate's SPKI`);
  }
  return pin;
}

/** TLS verification failures (as opposed to network ones) carry these OpenSSL / Node codes. */
function isCertificateError(code: string | undefined): boolean {
  // e.g. DEPTH_ZERO_SELF_SIGNED_CERT, UNABLE_TO_VERIFY_LEAF_SIGNATURE, CERT_HAS_EXPIRED, ERR_TLS_CERT_ALTNAME_INVALID
  return code !== undefined && /CERT|SELF_SIGNED|UNABLE_TO_|HOSTNAME/.test(code);
}

type Transport =
  | { kind: 'unix'; socketPath: string }
  | { kind: 'http'; hostname: string; port: number }
  | { kind: 'https'; hostname: string; port: number };

/**
 * A client for one vault. Construction validates the options (and refuses plain HTTP to anything
 * but loopback) without touching the network.
 *
 * @example
 *   const vault = new VaultClient({ url: 'http://127.0.0.1:8200', key: { keyId, privateKey } });
 *   const { body } = await vault.request<{ projects: unknown[] }>('GET', '/v1/projects');
 */
export class VaultClient {
  readonly authority: string;
  private readonly transport: Transport;
  private readonly agent: http.Agent;
  private readonly timeoutMs: number;
  private readonly keyFile: string | undefined;
  private key: SignerKey | undefined;
  private readonly pin: Buffer | undefined;

  constructor(opts: VaultClientOptions) {
    if (typeof opts?.url !== 'string' || opts.url.length === 0) throw new SikkerKeyError('SK_ERR_CONFIG', 'the vault URL is required');
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (!Number.isFinite(this.timeoutMs) || this.timeoutMs <= 0) throw new SikkerKeyError('SK_ERR_CONFIG', 'timeoutMs must be a positive number');
    this.key = opts.key;
    this.keyFile = opts.keyFile;
    if (this.key === undefined && this.keyFile === undefined) {
      throw new SikkerKeyError('SK_ERR_CONFIG', 'a signing key is required: give key or keyFile');
    }
    if (opts.pinSha256 !== undefined) this.pin = parsePin(opts.pinSha256, 'pinSha256');

    if (opts.url.startsWith('unix:')) {
      const socketPath = opts.url.slice('unix:'.length);
      if (socketPath.length === 0) throw new SikkerKeyError('SK_ERR_CONFIG', 'a unix: URL needs a socket path (unix:/run/sikkerkey.sock)');
      if (this.pin !== undefined || opts.caFile !== undefined) throw new SikkerKeyError('SK_ERR_CONFIG', 'caFile and pinSha256 apply to https:// only');
      this.transport = { kind: 'unix', socketPath };
      this.authority = (opts.authority ?? 'localhost').toLowerCase();
      this.agent = new http.Agent({ keepAlive: true });
      return;
    }

    let url: URL;
    try {
      url = new URL(opts.url);
    } catch (cause) {
      throw new SikkerKeyError('SK_ERR_CONFIG', 'the vault URL is not a URL (https://host:port or unix:/path)', { cause });
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new SikkerKeyError('SK_ERR_CONFIG', `unsupported scheme ${url.protocol} (use https://, http:// to loopback, or unix:)`);
    if (url.username !== '' || url.password !== '') throw new SikkerKeyError('SK_ERR_CONFIG', 'the vault URL must not carry credentials');
    // A path prefix would be signed as part of @path; a proxy that strips it would break every signature.
    if ((url.pathname !== '/' && url.pathname !== '') || url.search !== '' || url.hash !== '') {
      throw new SikkerKeyError('SK_ERR_CONFIG', 'the vault URL must be scheme://host[:port] without a path, query or fragment');
    }
    const hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
    // URL.host is lower-case and omits the scheme's default port, as RFC 9421 wants @authority.
    this.authority = (opts.authority ?? url.host).toLowerCase();

    if (url.protocol === 'http:') {
      if (hostname.toLowerCase() !== 'localhost' && !isLoopbackAddress(hostname)) {
        throw new SikkerKeyError('SK_ERR_INSECURE_TRANSPORT',
          `refused before connecting: plain http:// is allowed only to loopback addresses (127.0.0.0/8, ::1, localhost) and unix: sockets, and ${url.host} is none of them; use https://${url.host}`);
      }
      if (this.pin !== undefined || opts.caFile !== undefined) throw new SikkerKeyError('SK_ERR_CONFIG', 'caFile and pinSha256 apply to https:// only');
      this.transport = { kind: 'http', hostname, port };
      this.agent = new http.Agent({ keepAlive: true });
      return;
    }

    // The environment's defaults apply to https:// only: a CA file exported for a remote vault must
    // not break a plain loopback URL.
    const env = opts.env ?? process.env;
    const caFile = opts.caFile ?? (env.SIKKERKEY_CA_FILE || undefined);
    if (this.pin === undefined && env.SIKKERKEY_PIN_SHA256) this.pin = parsePin(env.SIKKERKEY_PIN_SHA256, 'SIKKERKEY_PIN_SHA256');
    let ca: string[] | undefined;
    if (caFile !== undefined) {
      let extra: string;
      try {
        extra = readFileSync(caFile, 'utf8');
      } catch (cause) {
        throw new SikkerKeyError('SK_ERR_CONFIG', `cannot read CA file ${caFile}${opts.caFile === undefined ? ' (from SIKKERKEY_CA_FILE)' : ''}`, { cause });
      }
      // Node's `ca` replaces the system roots; we want the system roots plus this file.
      ca = [...rootCertificates, extra];
    }
    const pin = this.pin;
    this.transport = { kind: 'https', hostname, port };
    this.agent = new https.Agent({
      keepAlive: true,
      minVersion: 'TLSv1.2',
      ...(ca === undefined ? {} : { ca }),
      checkServerIdentity: (host: string, cert: PeerCertificate): Error | undefined => {
        const err = tlsCheckServerIdentity(host, cert);
        if (err !== undefined || pin === undefined) return err;
        const spki = new X509Certificate(cert.raw).publicKey.export({ type: 'spki', format: 'der' });
        const seen = createHash('sha256').update(spki).digest();
        if (!timingSafeEqual(seen, pin)) {
          return new SikkerKeyError('SK_ERR_TLS_PIN', `the vault's certificate is trusted but its key (SPKI sha256 ${seen.toString('base64')}) does not match the pinned pinSha256`);
        }
        return undefined;
      },
    });
  }

  /** Closes idle keep-alive connections. */
  close(): void {
    this.agent.destroy();
  }

  private signer(): SignerKey {
    if (this.key === undefined) {
      const id = readPrivateKeyFile(this.keyFile as string);
      this.key = { keyId: id.keyId, privateKey: id.privateKey };
    }
    return this.key;
  }

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
  async request<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    opts: { signal?: AbortSignal; timeoutMs?: number } = {},
  ): Promise<VaultResponse<T>> {
    opts.signal?.throwIfAborted();
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body), 'utf8');
    const deadline = Date.now() + (opts.timeoutMs ?? this.timeoutMs);
    try {
      return await this.attempt<T>(method, path, payload, deadline, opts.signal);
    } catch (err) {
      // A kept-alive connection the vault had just closed: the request never reached it. Retry
      // once on a fresh connection, re-signed (new nonce) — only for idempotent methods, since
      // for the others we cannot be sure the vault did not act on it.
      if (!(err instanceof StaleConnection)) throw err;
      if (!IDEMPOTENT_METHODS.has(method)) throw mapTransportError(err.cause);
      return await this.attempt<T>(method, path, payload, deadline, opts.signal, false);
    }
  }

  private attempt<T>(
    method: string,
    path: string,
    payload: Buffer | undefined,
    deadline: number,
    signal: AbortSignal | undefined,
    mayReportStale = true,
  ): Promise<VaultResponse<T>> {
    const signed = signRequest(
      { method, authority: this.authority, target: path, body: payload, contentType: payload === undefined ? undefined : 'application/json' },
      this.signer(),
    );
    const headers: Record<string, string> = {
      ...signed,
      accept: 'application/json',
      'user-agent': 'sikkerkey-client/1',
    };
    if (payload !== undefined || (method !== 'GET' && method !== 'HEAD')) headers['content-length'] = String(payload?.length ?? 0);
    const timeoutMs = Math.max(1, deadline - Date.now());

    const t = this.transport;
    const base: http.RequestOptions = { method, path, headers, agent: this.agent };
    const requestOptions: http.RequestOptions =
      t.kind === 'unix'
        ? { ...base, socketPath: t.socketPath }
        : t.kind === 'http'
          ? { ...base, host: t.hostname, port: t.port, ...(isIP(t.hostname) === 0 ? { lookup: loopbackOnlyLookup as unknown as http.RequestOptions['lookup'] } : {}) }
          : { ...base, host: t.hostname, port: t.port };
    const send = t.kind === 'https' ? https.request : http.request;

    return new Promise<VaultResponse<T>>((resolve, reject) => {
      let settled = false;
      let answered = false;
      let req: http.ClientRequest | undefined;
      const finish = (err: unknown, value?: VaultResponse<T>): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (err !== undefined) {
          req?.destroy();
          reject(err);
        } else {
          resolve(value as VaultResponse<T>);
        }
      };
      const onAbort = (): void => finish(signal?.reason);
      const timer = setTimeout(
        () => finish(new SikkerKeyError('SK_ERR_CONNECT', `the vault did not answer within ${timeoutMs} ms`)),
        timeoutMs,
      );
      signal?.addEventListener('abort', onAbort, { once: true });
      try {
        req = send(requestOptions, (res) => {
          answered = true;
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > MAX_RESPONSE_BYTES) {
              finish(new SikkerKeyError('SK_ERR_RESPONSE', `the vault's answer is larger than ${MAX_RESPONSE_BYTES} bytes`));
              return;
            }
            chunks.push(chunk);
          });
          res.on('error', (err) => finish(mapTransportError(err)));
          res.on('end', () => {
            try {
              finish(undefined, interpretResponse<T>(res.statusCode ?? 0, res.headers, Buffer.concat(chunks)));
            } catch (err) {
              finish(err);
            }
          });
          res.on('close', () => {
            if (!res.complete) finish(new SikkerKeyError('SK_ERR_CONNECT', 'the connection closed before the answer was complete'));
          });
        });
      } catch (err) {
        finish(mapTransportError(err));
        return;
      }
      const sent = req;
      sent.on('error', (err: NodeJS.ErrnoException) => {
        const stale = mayReportStale && sent.reusedSocket && !answered && err.code === 'ECONNRESET';
        finish(stale ? new StaleConnection(err) : mapTransportError(err));
      });
      sent.end(payload);
    });
  }

  /**
   * Reads a secret as a machine: `GET /v1/projects/{project}/secrets/{name}`; with `version`, that
   * version if it was ever live (`?version=N`: live, previous or retired; otherwise 404).
   *
   * @example
   *   const { value, fields } = await vault.getSecret('payments', 'db-main');
   *   const before = await vault.getSecret('payments', 'db-main', { version: 3 });
   */
  async getSecret(project: string, name: string, opts: { version?: number } = {}): Promise<SecretValue> {
    const query = opts.version !== undefined ? `?version=${encodeURIComponent(String(opts.version))}` : '';
    const { body } = await this.request<unknown>('GET', `/v1/projects/${encodePathSegment(project)}/secrets/${encodePathSegment(name)}${query}`);
    return asSecretValue(body);
  }

  /**
   * Follows a secret: yields its live value now, then again each time a newer version becomes
   * live (a rotation's promotion, an operator's write), within about a second. Each wait is one
   * signed long-poll (`?waitForVersionAfter=N&wait=…`, 304 when nothing changed); errors are
   * retried with backoff, and the loop ends when `signal` aborts.
   *
   * @example
   *   for await (const db of vault.watch('shop', 'db', { signal })) pool.reconfigure(db.fields);
   */
  async *watch(project: string, name: string, opts: { signal?: AbortSignal; waitSeconds?: number; afterVersion?: number } = {}): AsyncGenerator<SecretValue> {
    const path = `/v1/projects/${encodePathSegment(project)}/secrets/${encodePathSegment(name)}`;
    const wait = opts.waitSeconds ?? 30;
    let after = opts.afterVersion ?? 0;
    let backoff = 250;
    while (!opts.signal?.aborted) {
      try {
        const res = await this.request<unknown>('GET', `${path}?waitForVersionAfter=${after}&wait=${wait}`, undefined, {
          ...(opts.signal ? { signal: opts.signal } : {}), timeoutMs: (wait + 15) * 1000,
        });
        backoff = 250;
        if (res.status === 304) continue;
        const value = asSecretValue(res.body);
        after = value.version;
        yield value;
      } catch (err) {
        if (opts.signal?.aborted) return;
        // A refusal (no grant, locked, unknown) is final; a network fault is retried.
        if (err instanceof SikkerKeyError && err.statusCode < 500 && err.code !== 'SK_ERR_RATE_LIMITED') throw err;
        await new Promise((r) => setTimeout(r, backoff));
        backoff = Math.min(backoff * 2, 10_000);
      }
    }
  }
}

/** Methods RFC 9110 §9.2.2 calls idempotent: safe to send again when the first try may not have arrived. */
const IDEMPOTENT_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);

/** Internal: the first write on a reused keep-alive connection was reset before any answer. */
class StaleConnection extends Error {
  constructor(cause: unknown) {
    super('a kept-alive connection was closed by the vault', { cause });
  }
}

function mapTransportError(err: unknown): unknown {
  if (isSikkerKeyError(err)) return err;
  const e = err as NodeJS.ErrnoException;
  if (e?.name === 'AbortError') return err;
  const code = e?.code;
  // An alert is the vault refusing us (e.g. it requires a client certificate), not its certificate failing.
  if (code !== undefined && /^ERR_SSL_.*ALERT/.test(code)) {
    const clientCert = /CERTIFICATE_REQUIRED|BAD_CERTIFICATE|UNKNOWN_CA|HANDSHAKE_FAILURE/.test(code) ? ': it may require a client certificate' : '';
    return new SikkerKeyError('SK_ERR_CONNECT', `the vault ended the TLS handshake (${code})${clientCert}`, { cause: err });
  }
  if (isCertificateError(code)) {
    return new SikkerKeyError('SK_ERR_TLS_CERT', `the vault's certificate failed verification: ${certificateRule(code as string)} (${code})`, { cause: err });
  }
  if (code === 'EPROTO' || code?.startsWith('ERR_SSL_')) {
    return new SikkerKeyError('SK_ERR_CONNECT', `the TLS handshake with the vault failed (${code}): is it serving https:// on this port?`, { cause: err });
  }
  return new SikkerKeyError('SK_ERR_CONNECT', `the vault could not be reached (${e?.code ?? e?.message ?? 'error'})`, { cause: err });
}

/** Which verification rule a certificate error broke, in words. */
function certificateRule(code: string): string {
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID' || /HOSTNAME/.test(code)) return 'it is not issued for the host in the vault URL';
  if (/EXPIRED/.test(code)) return 'it has expired';
  if (/NOT_YET_VALID/.test(code)) return 'it is not valid yet';
  return 'it is not issued by a trusted CA (the system CAs, SIKKERKEY_CA_FILE or caFile)';
}

function interpretResponse<T>(status: number, headers: IncomingHttpHeaders, raw: Buffer): VaultResponse<T> {
  let parsed: unknown;
  if (raw.length > 0) {
    try {
      parsed = JSON.parse(raw.toString('utf8'));
    } catch (cause) {
      throw new SikkerKeyError('SK_ERR_RESPONSE', `the vault answered HTTP ${status} with a body that is not JSON`, { cause, details: { httpStatus: status } });
    }
  }
  // 304: a watch (long-poll read) ended with no newer version.
  if ((status >= 200 && status < 300) || status === 304) return { status, headers, body: parsed as T };
  const error = (parsed as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  if (typeof error === 'object' && error !== null && isErrorCode(error.code)) {
    const code = error.code;
    const { code: _code, message, ...rest } = error as Record<string, unknown>;
    const msg = typeof message === 'string' ? message : `HTTP ${status}`;
    throw new SikkerKeyError(code, msg, { details: { ...rest, httpStatus: status } });
  }
  const unknownCode = typeof error?.code === 'string' ? ` (code ${error.code.slice(0, 64)})` : '';
  throw new SikkerKeyError('SK_ERR_RESPONSE', `the vault answered HTTP ${status}${unknownCode} without an error this client knows`, { details: { httpStatus: status } });
}

function asSecretValue(body: unknown): SecretValue {
  const b = body as Partial<SecretValue> | null | undefined;
  const fieldsOk =
    b?.fields === undefined ||
    (typeof b.fields === 'object' && b.fields !== null && Object.values(b.fields).every((v) => typeof v === 'string'));
  if (
    typeof b !== 'object' || b === null || typeof b.project !== 'string' || typeof b.name !== 'string' ||
    typeof b.version !== 'number' || (b.value !== undefined && typeof b.value !== 'string') || !fieldsOk
  ) {
    throw new SikkerKeyError('SK_ERR_RESPONSE', 'the vault answered a secret read with an unexpected shape');
  }
  return b as SecretValue;
}
