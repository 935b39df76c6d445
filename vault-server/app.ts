import Fastify, { LogController } from 'fastify';
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, RouteOptions } from 'fastify';
import type { ServerOptions as HttpsServerOptions } from 'node:https';
import type { Logger } from 'pino';
import type { Keyring } from './crypto/keyring.js';
import type { Store } from './store/open-store.js';
import { createNonceStore } from './store/nonce-store.js';
import { GroupCommitter } from './store/group-commit.js';
import { StoreCaches, hotChangeCounter } from './store/change-counter.js';
import { holdAuditHead } from './modules/audit/audit-store.js';
import type { VaultContext } from './context.js';
import { storeRestoredAt } from './vault-state.js';
import { clientErrorHandler, installErrorHandling, toSikkerKeyError } from './http/errors.js';
import { installAuthentication } from './http/authenticate.js';
import { installValidation } from './http/validation.js';
import { DEFAULT_LIMITS } from './http/limits.js';
import type { ServerLimits } from './http/limits.js';
import { installAuthGuard } from './http/auth-guard.js';
import type { BudgetLike } from './http/auth-guard.js';
import { createVerifyLimiter } from './http/verify-limiter.js';
import { installShutdownGate } from './http/shutdown.js';
import { createRouteCatalog, openApiRoutes } from './http/openapi.js';
import { uiRoutes } from './http/ui-static.js';
import { createVaultMetrics } from './metrics.js';
import type { VaultMetrics } from './metrics.js';
import { lastSeenRecorder } from './modules/machines/machines-service.js';
import { keyUseRecorder } from './modules/operators/operators-service.js';
import { operatorsRoutes } from './modules/operators/operators-routes.js';
import { aiAgentsRoutes } from './modules/ai-agents/ai-agents-routes.js';
import { trashRoutes } from './modules/trash/trash-routes.js';
import { DEFAULT_TRASH_DAYS } from './modules/trash/trash-service.js';
import { startTrashSweeper } from './modules/trash/trash-sweeper.js';
import { startAuditRetention } from './modules/audit/audit-retention.js';
import { startAuditSink } from './modules/audit/audit-sink.js';
import type { AuditSink } from './modules/audit/audit-sink.js';
import { projectsRoutes } from './modules/projects/projects-routes.js';
import { secretsRoutes } from './modules/secrets/secrets-routes.js';
import { machinesRoutes } from './modules/machines/machines-routes.js';
import { grantsRoutes } from './modules/grants/grants-routes.js';
import { auditRoutes } from './modules/audit/audit-routes.js';
import { ensureAuditKeys } from './modules/audit/audit-keys.js';
import type { AuditKeys } from './modules/audit/audit-store.js';
import { healthRoutes } from './modules/health/health-routes.js';
import { rotationsRoutes } from './modules/rotations/rotations-routes.js';
import { canariesRoutes } from './modules/canaries/canaries-routes.js';
import { accessPoliciesRoutes } from './modules/access-policies/access-policies-routes.js';
import { transferRoutes } from './modules/transfer/transfer-routes.js';
import { overviewRoutes } from './modules/overview/overview-routes.js';
import { LEASE_SECONDS } from './modules/rotations/rotation-rules.js';
import { startScheduler } from './modules/rotations/rotation-scheduler.js';
import { enrollmentRoutes } from './modules/enrollment/enrollment-routes.js';
import { warnUnsupportedPatterns } from './modules/enrollment/enrollment-tokens.js';
import { createMachineConstraintCheck } from './modules/machines/machine-constraints.js';
import { openGeoIp } from './modules/machines/machine-geoip.js';
import { startMachineSweeper } from './modules/machines/machine-sweeper.js';
import { webhooksRoutes } from './modules/webhooks/webhooks-routes.js';
import { leasesRoutes } from './modules/leases/leases-routes.js';
import { startLeaseSweeper } from './modules/leases/lease-sweeper.js';
import { startWebhookWorker } from './modules/webhooks/webhooks-worker.js';
import { checkWebhookTarget, sendWebhook } from './modules/webhooks/webhook-transport.js';
import type { Sender } from './modules/webhooks/webhooks-worker.js';

export interface AppOptions {
  store: Store;
  keyring: Keyring;
  /** The unwrapped audit keys (openVault returns them); loaded from the store when absent. */
  auditKeys?: AuditKeys;
  log: Logger;
  /** host:port values that request signatures may cover as @authority. */
  authorities: readonly string[];
  bodyLimit?: number;
  now?: () => number;
  rotationLeaseSeconds?: number;
  /** Failed authentications allowed per source address per minute (default 20). */
  authFailureLimit?: number;
  /** The per-address failure budget, when it is shared with other processes (cluster/shared-budget.ts). */
  failureBudget?: BudgetLike;
  /** Ed25519 verifications in flight at once before 503 SK_ERR_VERIFY_BUSY (--verify-concurrency; default 2 × cores × 32). */
  verifyConcurrency?: number;
  /** Vault-wide source allowlist (--allow-cidr). */
  allowCidrs?: readonly string[];
  /** Proxies whose X-Forwarded-For is believed (--trust-proxy CIDR…); none by default. */
  trustProxy?: readonly string[];
  /** Private ranges webhook deliveries may go to (--webhook-allow-cidr); kept on the app as `webhookAllowCidrs`. */
  webhookAllowCidrs?: readonly string[];
  /** Run the rotation scheduler (cron policies, agent liveness) in this process; `serve` does. */
  scheduler?: boolean;
  /** A canary trip also disables the reading machine (default true; `serve --no-canary-disable-machine`). */
  canaryDisablesMachine?: boolean;
  /** Serve TLS with these options (see http/tls.ts); plain HTTP without. */
  https?: HttpsServerOptions;
  /** Serve /metrics (default true). */
  metricsEndpoint?: boolean;
  /** MaxMind-format database for machines' country allowlists (--geoip-db); without it they deny. */
  geoipDb?: string;
  /** Run the machine expiry sweeper in this process (every minute; `serve` does). Tests call sweepMachines. */
  machineSweeper?: boolean | { everyMs: number };
  /** Days a deleted project or secret stays in the trash before the sweeper purges it (`serve --trash-days`, default 30). */
  trashDays?: number;
  /** The vault's audit retention (`serve --audit-retention`): project settings are checked against it, and with auditRetentionSweeper this process prunes (audit-retention.ts). */
  auditRetentionMs?: number;
  /** Run the retention sweeper in this process when auditRetentionMs is set (default true; of several workers only worker 1 does). */
  auditRetentionSweeper?: boolean;
  /** Stream audit events to this sink from this process (`serve --audit-sink`; audit-sink.ts). */
  auditSink?: AuditSink;
  /** Run the lease expiry sweeper in this process (every 5 s; `serve` does). Tests call sweepLeases. */
  leaseSweeper?: boolean | { everyMs: number };
  /** Run the trash sweeper in this process (hourly; `serve` does). Tests call sweepTrash. */
  trashSweeper?: boolean | { everyMs: number };
  /** Connection cap and timeouts of the listener (http/limits.ts); defaults for what is left out. */
  limits?: Partial<ServerLimits>;
  /**
   * Sends webhook deliveries and checks a target at `webhook add`. Default: the SSRF-safe
   * transport (modules/webhooks/webhook-transport.ts) with `webhookAllowCidrs`.
   */
  webhookSender?: Sender;
  webhookCheckTarget?: (url: string) => Promise<void>;
  /** Requests per minute an AI agent's key may make when the agent sets no rate of its own (default 600, per process). */
  aiAgentRatePerMinute?: number;
  /** The dashboard's built files served at /ui/ (default: dist/ui/ beside the compiled vault; http/ui-static.ts). */
  uiDir?: string;
  /** Called with every route as it is registered (tests inspect the route schemas). */
  onRoute?: (route: RouteOptions) => void;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** --webhook-allow-cidr: the private ranges webhook deliveries may go to. */
    webhookAllowCidrs: readonly string[];
  }
}

/** Requests slower than this are logged at `info` even when they succeed. */
const SLOW_REQUEST_MS = 1000;

/** The composition root: wires the store, keyring and modules into one fastify instance. */
export async function buildApp(opts: AppOptions): Promise<{ app: FastifyInstance; ctx: VaultContext; metrics: VaultMetrics }> {
  const metrics = createVaultMetrics();
  // `serve` passes the keys (openVaultWithAudit fails start-up without them). Otherwise they are
  // loaded here; if that fails (a wrong root key: /readyz reports it) the app still builds, and
  // anything that writes an audit event fails with the loading error rather than write unMAC'd.
  let auditKeys = opts.auditKeys;
  let auditKeysError: Error | undefined;
  if (!auditKeys) {
    try {
      auditKeys = await ensureAuditKeys(opts.store, opts.keyring);
    } catch (err) {
      auditKeysError = err instanceof Error ? err : new Error(String(err));
    }
  }
  const caches = new StoreCaches({ read: hotChangeCounter(opts.store), onClear: () => metrics.cacheInvalidations.inc() });
  const commits = new GroupCommitter(opts.store, {
    ...(opts.store.durability ? { durability: opts.store.durability } : {}),
    // Every batch holds the audit chain head from its first statement to COMMIT.
    prologue: (trx, scope) => holdAuditHead(trx, opts.store.dialect, scope),
    onRollback: () => caches.invalidate(),
    onBatch: ({ jobs, committed }) => metrics.batchJobs.observe({ outcome: committed ? 'commit' : 'rollback' }, jobs),
  });
  const ctx: VaultContext = {
    commits, caches,
    store: opts.store, keyring: opts.keyring, log: opts.log, now: opts.now ?? Date.now,
    get auditKeys(): AuditKeys {
      if (!auditKeys) throw auditKeysError ?? new Error('the audit keys are not loaded');
      return auditKeys;
    },
    rotationLeaseSeconds: opts.rotationLeaseSeconds ?? LEASE_SECONDS, metrics,
    canaryDisablesMachine: opts.canaryDisablesMachine ?? true,
    auditRetentionMs: opts.auditRetentionMs,
    restoredAt: await storeRestoredAt(opts.store.db),
  };
  const limits: ServerLimits = { ...DEFAULT_LIMITS, ...opts.limits };
  // Node checks headersTimeout / requestTimeout every connectionsCheckingInterval; both are
  // constructor options of the server (https.createServer takes http's too).
  const nodeServerOptions = { headersTimeout: limits.headersTimeoutMs, requestTimeout: limits.requestTimeoutMs, connectionsCheckingInterval: limits.checkIntervalMs };
  const app: FastifyInstance = Fastify({
    connectionTimeout: limits.connectionTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    // Only listed proxies may set the source address (X-Forwarded-For); by default none.
    trustProxy: opts.trustProxy && opts.trustProxy.length > 0 ? [...opts.trustProxy] : false,
    // pino's Logger and fastify's logger interface differ only in generics.
    loggerInstance: opts.log as unknown as FastifyBaseLogger,
    // One line per request is written by the onResponse hook below: `info` for refusals, errors
    // and slow requests, `debug` for the rest (a pino call below its level costs nothing).
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: opts.bodyLimit ?? 256 * 1024,
    // The drain answers 503 itself, in our error shape (http/shutdown.ts).
    return503OnClosing: false,
    ...(opts.https ? { https: { ...nodeServerOptions, ...opts.https } } : { http: nodeServerOptions }),
    // Signed requests cover the raw target; nothing may rewrite it before the check.
    // maxParamLength: a path parameter may carry a whole name (NAME_PATTERN allows 128 characters;
    // fastify's default of 100 made longer names creatable but unreachable).
    routerOptions: { caseSensitive: true, ignoreTrailingSlash: false, ignoreDuplicateSlashes: false, maxParamLength: 256 },
    // Errors fastify raises before routing (a malformed URL) get our shape and code too.
    // Requests Node refuses before fastify routes them (timeouts, oversized headers, not HTTP) get our shape and code too.
    clientErrorHandler,
    frameworkErrors: (err, _req, reply) => {
      const skErr = toSikkerKeyError(err);
      void (reply as unknown as FastifyReply).code(skErr.statusCode).send(skErr.toBody());
    },
  });
  app.server.maxConnections = limits.maxConnections;
  app.server.headersTimeout = limits.headersTimeoutMs;
  // For the webhook worker's TargetPolicy (modules/webhooks/webhook-transport.ts).
  app.decorate('webhookAllowCidrs', Object.freeze([...(opts.webhookAllowCidrs ?? [])]));
  if (opts.onRoute) { const onRoute = opts.onRoute; app.addHook('onRoute', (route) => onRoute(route)); }
  // Every route, as registered, for GET /v1/openapi.json (http/openapi.ts).
  const catalog = createRouteCatalog();
  app.addHook('onRoute', (route) => catalog.record(route));
  installErrorHandling(app);
  installValidation(app);
  installShutdownGate(app);
  // One parser for every content type: the raw bytes, so Content-Digest is computed over exactly
  // what arrived. JSON is parsed by the auth hook after the signature holds.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  const seen = lastSeenRecorder(ctx);
  const keyUsed = keyUseRecorder(ctx);
  const geoip = opts.geoipDb ? await openGeoIp(opts.geoipDb) : undefined;
  const guard = installAuthGuard(app, {
    now: ctx.now,
    ...(opts.authFailureLimit !== undefined ? { failureLimit: opts.authFailureLimit } : {}),
    ...(opts.failureBudget ? { budget: opts.failureBudget } : {}),
    ...(opts.allowCidrs ? { allowCidrs: opts.allowCidrs } : {}),
  });
  // Verifications run on libuv's thread pool; this caps how many may be queued or running there.
  // Enrollment's proofs of possession go through it too, and it counts every verification performed.
  const limiter = createVerifyLimiter({
    ...(opts.verifyConcurrency !== undefined ? { max: opts.verifyConcurrency } : {}),
    onVerify: () => metrics.verifications.inc(),
  });
  const auth = installAuthentication(app, {
    store: opts.store,
    nonces: createNonceStore(opts.store, { commits }),
    // Reads claim their nonce in their own job (one batch per read): see settleDeferredNonce below.
    deferNonces: true,
    caches,
    commits,
    authorities: opts.authorities,
    now: ctx.now,
    verify: limiter.verify,
    checkMachine: createMachineConstraintCheck({ now: ctx.now, ctx, ...(geoip ? { geoip } : {}) }),
    onAuthenticated: (s) => metrics.verifySeconds.observe(s),
    addressRetryAfter: (request) => guard.retryAfter(request.ip),
    ...(opts.aiAgentRatePerMinute !== undefined ? { aiAgentRatePerMinute: opts.aiAgentRatePerMinute } : {}),
    ...(ctx.restoredAt !== undefined ? { signedAfter: ctx.restoredAt } : {}),
    onFailure: (request, err, stage) => {
      metrics.authFailures.inc({ code: err.code });
      // Never per key id, and never a replay (its signature was valid): only the source address.
      if (stage === 'precheck' || stage === 'signature') guard.recordFailure(request.ip);
      // (`busy`, SK_ERR_VERIFY_BUSY, is the vault's own overload: counted in the metric only.)
    },
  });
  // A request's nonce is claimed at COMMIT, before its fsync: nothing is answered until it is durable.
  // A nonce left for a write job that never took it (an answer without one) is claimed here first.
  app.addHook('onSend', async (req, reply) => {
    const refused = await auth.settleDeferredNonce(req);
    if (req.durableMark !== undefined) await commits.durableThrough(req.durableMark);
    if (!refused) return undefined;
    const retryAfter = refused.details?.['retryAfter'];
    if (typeof retryAfter === 'number') void reply.header('retry-after', String(Math.ceil(retryAfter)));
    void reply.code(refused.statusCode).header('content-type', 'application/json; charset=utf-8');
    return JSON.stringify(refused.toBody());
  });
  app.addHook('onResponse', async (req, reply) => {
    const ms = reply.elapsedTime;
    const line = { reqId: req.id, method: req.method, route: req.routeOptions.url ?? 'unmatched', status: reply.statusCode, ms: Math.round(ms * 10) / 10, ...(req.caller ? { caller: `${req.caller.kind}:${req.caller.name}` } : {}) };
    if (reply.statusCode >= 400 || ms >= SLOW_REQUEST_MS) opts.log.info(line, 'request completed');
    else opts.log.debug(line, 'request completed');
    metrics.requests.inc({ route: req.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) });
  });
  app.addHook('preHandler', async (req) => {
    if (req.caller?.kind === 'machine') seen(req.caller.id);
    else if (req.caller?.kind === 'operator') keyUsed(req.caller.keyId);
  });

  healthRoutes(app, ctx, { metrics: opts.metricsEndpoint ?? true });
  projectsRoutes(app, ctx);
  secretsRoutes(app, ctx);
  machinesRoutes(app, ctx);
  grantsRoutes(app, ctx);
  auditRoutes(app, ctx);
  rotationsRoutes(app, ctx);
  canariesRoutes(app, ctx);
  accessPoliciesRoutes(app, ctx);
  transferRoutes(app, ctx);
  overviewRoutes(app, ctx);
  leasesRoutes(app, ctx);
  const targetPolicy = { allowCidrs: app.webhookAllowCidrs };
  const webhookSender = opts.webhookSender ?? ((url, req) => sendWebhook(url, req, targetPolicy));
  const checkTarget = opts.webhookCheckTarget ?? (async (url: string) => { await checkWebhookTarget(url, targetPolicy); });
  webhooksRoutes(app, ctx, { sender: webhookSender, checkTarget });
  enrollmentRoutes(app, ctx, { guard, verify: limiter.verify, authorities: opts.authorities, ...(geoip ? { geoip } : {}) });
  operatorsRoutes(app, ctx, { guard, verify: limiter.verify, authorities: opts.authorities });
  aiAgentsRoutes(app, ctx);
  const trashDays = opts.trashDays ?? DEFAULT_TRASH_DAYS;
  trashRoutes(app, ctx, { trashDays });
  if (opts.auditSink !== undefined) startAuditSink(app, ctx, opts.auditSink);
  if (opts.auditRetentionMs !== undefined && (opts.auditRetentionSweeper ?? true)) startAuditRetention(app, ctx, { retentionMs: opts.auditRetentionMs });
  if (opts.trashSweeper) startTrashSweeper(app, ctx, { trashDays, ...(opts.trashSweeper === true ? {} : { everyMs: opts.trashSweeper.everyMs }) });
  openApiRoutes(app, catalog);
  uiRoutes(app, opts.uiDir !== undefined ? { dir: opts.uiDir } : {});
  if (opts.leaseSweeper) startLeaseSweeper(app, ctx, opts.leaseSweeper === true ? undefined : opts.leaseSweeper.everyMs);
  if (opts.machineSweeper) startMachineSweeper(app, ctx, opts.machineSweeper === true ? undefined : opts.machineSweeper.everyMs);
  if (opts.scheduler) {
    const stop = startScheduler(ctx);
    app.addHook('onClose', async () => stop());
    // Webhook deliveries: every second and on every enqueue, in the processes that run the scheduler.
    const stopWebhooks = startWebhookWorker(ctx, { sender: webhookSender });
    app.addHook('onClose', async () => stopWebhooks());
  }
  // SQLite: WAL checkpoints from a worker thread, never inside a request's COMMIT.
  const stopCheckpoints = opts.store.startBackgroundCheckpoints?.({ onError: (message) => opts.log.warn(message) });
  if (stopCheckpoints) app.addHook('onClose', async () => stopCheckpoints());
  // Requests still in a batch are answered before the store may close.
  app.addHook('onClose', async () => commits.idle());
  await app.ready();
  await warnUnsupportedPatterns(ctx);
  return { app, ctx, metrics };
}
