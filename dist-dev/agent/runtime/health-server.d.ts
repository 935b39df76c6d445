import http from 'node:http';
import type { AgentMetrics } from './metrics.js';
/**
 * `/healthz` (the process is up), `/readyz` (the vault answered recently), `/metrics`
 * (Prometheus text) on a local port. Nothing here reveals a credential or a key.
 */
export declare function startHealthServer(listen: string, state: {
    ready: () => boolean;
    metrics: AgentMetrics;
}): Promise<http.Server>;
