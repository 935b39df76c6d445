/**
 * What every category of the adversarial run shares: the in-process vault (startTestVault over a
 * fresh SQLite store) with an operator and a machine key, a seeded random source, request
 * signing and sending through fastify's inject (each from a random source address, so the
 * per-address failure budget never turns the run into 429s), a bounded-concurrency loop, and the
 * per-route count of requests that reached a handler (an `onRoute` hook wraps every handler).
 *
 * @example
 *   const h = await startHarness({ seed: 1 });
 *   const req = h.signed(h.operator, 'GET', '/v1/projects');
 *   const answer = await h.send(req);
 *   await h.close();
 */
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RouteOptions } from 'fastify';
import { generateIdentityKey } from '../../protocol/keys.js';
import type { IdentityKey } from '../../protocol/keys.js';
import { signRequest } from '../../protocol/signing.js';
import { openStore } from '../../vault-server/store/open-store.js';
import type { Store } from '../../vault-server/store/open-store.js';
import { startTestVault, TEST_AUTHORITY } from '../../test/support/vault-app.js';
import type { TestVault } from '../../test/support/vault-app.js';
import type { AppOptions } from '../../vault-server/app.js';
import type { Answer } from './tally.js';

/** A request exactly as it goes on the wire (headers may repeat: an array). */
export interface RawRequest {
  method: string;
  target: string;
  headers: Record<string, string | string[]>;
  payload?: Buffer | undefined;
}

/** A seeded PRNG (mulberry32): the same seed draws the same values (concurrent requests may take them in another order). */
export interface Rand {
  (): number;
  int(min: number, max: number): number;
  pick<T>(items: readonly T[]): T;
  /** A 31-bit seed for a fast-check generator. */
  seed(): number;
}

export function createRand(seed: number): Rand {
  let s = seed >>> 0;
  const next = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const rand = next as Rand;
  rand.int = (min, max) => min + Math.floor(next() * (max - min + 1));
  rand.pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
  rand.seed = () => Math.floor(next() * 0x7fffffff);
  return rand;
}

/** The names the run creates, so generators can aim at things that exist. */
export const FIXTURE = Object.freeze({
  project: 'shop',
  otherProject: 'other',
  /** Where the replay phase's captured writes go: never named by the route fuzz, which may trash or lock the others. */
  replayProject: 'replay-target',
  secrets: ['db', 'api', 'db-admin'] as readonly string[],
  /** Machines the route fuzz may name (and disable, approve …); never the signing machine. */
  victimMachines: ['victim-1', 'victim-2'] as readonly string[],
  signingMachine: 'adv-agent',
});

export interface Harness {
  v: TestVault;
  store: Store;
  operator: IdentityKey;
  machine: IdentityKey;
  rand: Rand;
  /** Every registered route, as fastify handed it to onRoute. */
  routes: RouteOptions[];
  /** Requests that reached each route's handler, by `METHOD url`. */
  handlerHits: Map<string, number>;
  /** Signs like a client would (fresh nonce, now); `body` is sent as application/json unless told. */
  signed(key: IdentityKey, method: string, target: string, body?: Buffer | string, opts?: { contentType?: string; authority?: string; now?: number }): RawRequest;
  /**
   * Sends through inject from a random source address (or the one given), or with `tcp` over a
   * real socket to the vault once it listens (inject resolves `.` and `..` path segments itself,
   * so a request target that must reach the vault byte for byte goes over TCP).
   */
  send(req: RawRequest, opts?: { remoteAddress?: string; tcp?: boolean }): Promise<Answer & { raw: string }>;
  /** Error and fatal lines the vault logged (the in-memory log is drained as the run goes). */
  loggedErrors: { count: number; examples: string[] };
  /** A random source address in 10.0.0.0/8 or 2001:db8::/32. */
  address(): string;
  close(): Promise<void>;
}

export async function startHarness(opts: { seed: number; limits?: AppOptions['limits'] }): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'sk-adversarial-'));
  const store = await openStore({ dataDir: join(dir, 'data') });
  const routes: RouteOptions[] = [];
  const handlerHits = new Map<string, number>();
  const onRoute = (route: RouteOptions): void => {
    routes.push(route);
    const key = `${String(route.method)} ${route.url}`;
    handlerHits.set(key, 0);
    const inner = route.handler;
    // Counting at the handler itself: a request got here only past the auth hook and the schema.
    route.handler = function counted(this: unknown, ...args: Parameters<typeof inner>) {
      handlerHits.set(key, (handlerHits.get(key) ?? 0) + 1);
      return inner.apply(this as never, args);
    } as typeof inner;
  };
  let v: TestVault;
  try {
    v = await startTestVault(store, { authFailureLimit: 1_000_000_000, onRoute, ...(opts.limits ? { limits: opts.limits } : {}) });
  } catch (err) {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const rand = createRand(opts.seed);

  const address = (): string => (rand() < 0.85
    ? `10.${rand.int(0, 255)}.${rand.int(0, 255)}.${rand.int(1, 254)}`
    : `2001:db8::${rand.int(1, 0xffff).toString(16)}:${rand.int(1, 0xffff).toString(16)}`);

  const signed: Harness['signed'] = (key, method, target, body, o = {}) => {
    const payload = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(body);
    const headers = signRequest(
      { method, authority: o.authority ?? TEST_AUTHORITY, target, ...(payload && payload.length > 0 ? { body: payload, contentType: o.contentType ?? 'application/json' } : {}) },
      { keyId: key.keyId, privateKey: key.privateKey },
      o.now !== undefined ? { now: o.now } : {},
    );
    return { method, target, headers, payload: payload && payload.length > 0 ? payload : undefined };
  };

  const loggedErrors = { count: 0, examples: [] as string[] };
  // startTestVault keeps every log line in memory: scan them for errors, then let them go.
  const drainLogs = (): void => {
    for (const line of v.logs) {
      if (/"level":(50|60)\b/.test(line)) {
        loggedErrors.count += 1;
        if (loggedErrors.examples.length < 5) loggedErrors.examples.push(line.slice(0, 500));
      }
    }
    v.logs.length = 0;
  };
  const send: Harness['send'] = async (req, o = {}) => {
    if (v.logs.length > 5_000) drainLogs();
    if (o.tcp) return sendTcp(v, req);
    const res = await v.app.inject({
      method: req.method as 'GET', url: req.target,
      headers: { host: TEST_AUTHORITY, ...req.headers },
      ...(req.payload !== undefined ? { payload: req.payload } : {}),
      remoteAddress: o.remoteAddress ?? address(),
    });
    let body: unknown;
    try { body = res.body ? JSON.parse(res.body) : undefined; } catch { body = undefined; }
    return { method: req.method, target: req.target, status: res.statusCode, body, raw: res.body };
  };

  const h: Harness = {
    v, store, operator: v.operator, machine: generateIdentityKey(), rand, routes, handlerHits, signed, send, address, loggedErrors,
    close: async () => {
      drainLogs();
      await v.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await seedFixture(h);
  } catch (err) {
    await h.close();
    throw err;
  }
  // Fixture requests are not hostile: start the handler counts from zero.
  for (const k of handlerHits.keys()) handlerHits.set(k, 0);
  return h;
}

/** Projects, secrets, the signing machine (with grants) and victim machines, through the API. */
async function seedFixture(h: Harness): Promise<void> {
  const ok = async (method: string, target: string, body: unknown, want: number): Promise<void> => {
    const res = await h.v.call(h.operator, method, target, body);
    if (res.status !== want) throw new Error(`fixture ${method} ${target}: ${res.status} ${res.raw}`);
  };
  await ok('POST', '/v1/projects', { name: FIXTURE.project }, 201);
  await ok('POST', '/v1/projects', { name: FIXTURE.otherProject }, 201);
  await ok('POST', '/v1/projects', { name: FIXTURE.replayProject }, 201);
  await ok('PUT', `/v1/projects/${FIXTURE.project}/secrets/db`, { value: 'adversarial-db-value' }, 200);
  await ok('PUT', `/v1/projects/${FIXTURE.project}/secrets/api`, { fields: { user: 'u', password: 'p-adversarial' } }, 200);
  await ok('PUT', `/v1/projects/${FIXTURE.project}/secrets/db-admin`, { fields: { host: '127.0.0.1', port: '5432', user: 'admin', password: 'pw' } }, 200);
  await ok('POST', '/v1/machines', { name: FIXTURE.signingMachine, publicKey: Buffer.from(h.machine.publicKey).toString('base64'), labels: ['rotator'] }, 201);
  for (const secret of ['db', 'api']) await ok('POST', '/v1/grants', { machine: FIXTURE.signingMachine, project: FIXTURE.project, secret }, 201);
  for (const name of FIXTURE.victimMachines) {
    const key = generateIdentityKey();
    await ok('POST', '/v1/machines', { name, publicKey: Buffer.from(key.publicKey).toString('base64') }, 201);
  }
}

/** Runs `fn(i)` for i in [0, n) with at most `concurrency` in flight. */
export async function pool(n: number, concurrency: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      const i = next;
      next += 1;
      await fn(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
}

function sendTcp(v: TestVault, req: RawRequest): Promise<Answer & { raw: string }> {
  const address = v.app.server.address() as AddressInfo | null;
  if (!address) return Promise.reject(new Error('the vault is not listening'));
  return new Promise((resolve, reject) => {
    const r = http.request({ host: '127.0.0.1', port: address.port, method: req.method, path: req.target, agent: false, headers: { host: TEST_AUTHORITY, ...req.headers } }, (res) => {
      let raw = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { raw += d; });
      res.on('end', () => {
        let body: unknown;
        try { body = raw ? JSON.parse(raw) : undefined; } catch { body = undefined; }
        resolve({ method: req.method, target: req.target, status: res.statusCode ?? 0, body, raw });
      });
    });
    r.on('error', reject);
    r.end(req.payload);
  });
}
