import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { Writable } from 'node:stream';
import { generateIdentityKey } from '../../protocol/keys.js';
import type { IdentityKey } from '../../protocol/keys.js';
import { signRequest } from '../../protocol/signing.js';
import type { Store } from '../../vault-server/store/open-store.js';
import { buildApp } from '../../vault-server/app.js';
import type { AppOptions } from '../../vault-server/app.js';
import { initVault, openVault } from '../../vault-server/vault-state.js';
import type { VaultContext } from '../../vault-server/context.js';
import type { VaultMetrics } from '../../vault-server/metrics.js';

export const TEST_AUTHORITY = 'vault.test:8200';

export interface InjectedResponse { status: number; headers: Record<string, unknown>; body: unknown; raw: string }

/** An in-process vault over a real store, with its log lines captured for leak checks. */
export interface TestVault {
  app: FastifyInstance;
  ctx: VaultContext;
  metrics: VaultMetrics;
  operator: IdentityKey;
  rootKey: Buffer;
  logs: string[];
  /** A signed request as `key` (JSON body), through fastify's inject. */
  call(key: IdentityKey, method: string, target: string, body?: unknown, opts?: { headers?: Record<string, string>; now?: number; remoteAddress?: string }): Promise<InjectedResponse>;
  /** Signs and returns the raw request so a test can replay or mutate it. */
  sign(key: IdentityKey, method: string, target: string, body?: unknown): { headers: Record<string, string>; payload: Buffer };
  /** `remoteAddress`: the source address the vault sees (default 127.0.0.1). */
  send(method: string, target: string, headers: Record<string, string>, payload?: Buffer | string, opts?: { remoteAddress?: string }): Promise<InjectedResponse>;
  /** Adds a machine by public key through the operator API; returns its key. */
  addMachine(name: string, labels?: string[]): Promise<IdentityKey>;
  close(): Promise<void>;
}

/**
 * `authFailureLimit` defaults high here: functional tests send many deliberately bad requests from
 * one address, and the guard tests set the production default (20) themselves.
 */
export async function startTestVault(store: Store, opts: { now?: () => number; authFailureLimit?: number; geoipDb?: string; trustProxy?: string[]; onRoute?: AppOptions['onRoute']; limits?: AppOptions['limits']; webhookAllowCidrs?: string[]; auditRetentionMs?: number; uiDir?: string } = {}): Promise<TestVault> {
  const operator = generateIdentityKey();
  const { rootKey } = await initVault(store, { operatorPublicKey: Buffer.from(operator.publicKey).toString('base64'), operatorName: 'owner' });
  const keyring = await openVault(store, rootKey);
  const logs: string[] = [];
  const sink = new Writable({ write(chunk: Buffer, _enc, cb) { logs.push(chunk.toString()); cb(); } });
  const log = pino({ level: 'debug' }, sink);
  const { app, ctx, metrics } = await buildApp({ store, keyring, log, authorities: [TEST_AUTHORITY], authFailureLimit: opts.authFailureLimit ?? 100_000, ...(opts.now ? { now: opts.now } : {}),
    ...(opts.geoipDb ? { geoipDb: opts.geoipDb } : {}), ...(opts.trustProxy ? { trustProxy: opts.trustProxy } : {}), ...(opts.onRoute ? { onRoute: opts.onRoute } : {}), ...(opts.limits ? { limits: opts.limits } : {}),
    ...(opts.webhookAllowCidrs ? { webhookAllowCidrs: opts.webhookAllowCidrs } : {}), ...(opts.uiDir !== undefined ? { uiDir: opts.uiDir } : {}),
    // The vault's retention as every process knows it; tests run the sweep themselves (pruneAudit).
    ...(opts.auditRetentionMs !== undefined ? { auditRetentionMs: opts.auditRetentionMs, auditRetentionSweeper: false } : {}) });

  const send = async (method: string, target: string, headers: Record<string, string>, payload?: Buffer | string, o: { remoteAddress?: string } = {}): Promise<InjectedResponse> => {
    const res = await app.inject({
      method: method as 'GET', url: target, headers: { host: TEST_AUTHORITY, ...headers }, ...(payload !== undefined ? { payload } : {}),
      ...(o.remoteAddress ? { remoteAddress: o.remoteAddress } : {}),
    });
    let body: unknown;
    try { body = res.body ? JSON.parse(res.body) : undefined; } catch { body = res.body; }
    return { status: res.statusCode, headers: res.headers, body, raw: res.body };
  };
  const sign = (key: IdentityKey, method: string, target: string, body?: unknown): { headers: Record<string, string>; payload: Buffer } => {
    const payload = body === undefined ? Buffer.alloc(0) : Buffer.from(JSON.stringify(body));
    const headers = signRequest(
      { method, authority: TEST_AUTHORITY, target, ...(payload.length ? { body: payload, contentType: 'application/json' } : {}) },
      { keyId: key.keyId, privateKey: key.privateKey },
      opts.now ? { now: Math.floor(opts.now() / 1000) } : {},
    );
    return { headers, payload };
  };
  const call: TestVault['call'] = async (key, method, target, body, o = {}) => {
    const signed = sign(key, method, target, body);
    return send(method, target, { ...signed.headers, ...o.headers }, signed.payload.length ? signed.payload : undefined, o.remoteAddress ? { remoteAddress: o.remoteAddress } : {});
  };
  return {
    app, ctx, metrics, operator, rootKey, logs, call, sign, send,
    addMachine: async (name, labels = []) => {
      const key = generateIdentityKey();
      const res = await call(operator, 'POST', '/v1/machines', { name, publicKey: Buffer.from(key.publicKey).toString('base64'), labels });
      if (res.status !== 201) throw new Error(`machine add failed: ${res.raw}`);
      return key;
    },
    close: () => app.close(),
  };
}
