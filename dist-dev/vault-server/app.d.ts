import type { FastifyInstance, RouteOptions } from 'fastify';
import type { ServerOptions as HttpsServerOptions } from 'node:https';
import type { Logger } from 'pino';
import type { Keyring } from './crypto/keyring.js';
import type { Store } from './store/open-store.js';
import type { VaultContext } from './context.js';
import type { ServerLimits } from './http/limits.js';
import type { BudgetLike } from './http/auth-guard.js';
import type { VaultMetrics } from './metrics.js';
import type { AuditKeys } from './modules/audit/audit-store.js';
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
    machineSweeper?: boolean | {
        everyMs: number;
    };
    /** Days a deleted project or secret stays in the trash before the sweeper purges it (`serve --trash-days`, default 30). */
    trashDays?: number;
    /** Run the trash sweeper in this process (hourly; `serve` does). Tests call sweepTrash. */
    trashSweeper?: boolean | {
        everyMs: number;
    };
    /** Connection cap and timeouts of the listener (http/limits.ts); defaults for what is left out. */
    limits?: Partial<ServerLimits>;
    /** Called with every route as it is registered (tests inspect the route schemas). */
    onRoute?: (route: RouteOptions) => void;
}
/** The composition root: wires the store, keyring and modules into one fastify instance. */
export declare function buildApp(opts: AppOptions): Promise<{
    app: FastifyInstance;
    ctx: VaultContext;
    metrics: VaultMetrics;
}>;
