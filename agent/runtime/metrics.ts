import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The agent's Prometheus metrics; names are part of the operational contract. */
export function createAgentMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'sikkerkey_agent_' });
  return {
    registry,
    jobs: new Counter({ name: 'sikkerkey_agent_jobs_total', help: 'Jobs finished, by engine, kind and outcome', labelNames: ['engine', 'kind', 'outcome'], registers: [registry] }),
    duration: new Histogram({ name: 'sikkerkey_agent_job_duration_seconds', help: 'Claim to outcome, by engine and kind', labelNames: ['engine', 'kind'], buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30], registers: [registry] }),
    polls: new Counter({ name: 'sikkerkey_agent_polls_total', help: 'Long-polls answered, by result', labelNames: ['result'], registers: [registry] }),
    active: new Gauge({ name: 'sikkerkey_agent_jobs_active', help: 'Jobs being worked on now', registers: [registry] }),
    lastContact: new Gauge({ name: 'sikkerkey_agent_last_vault_contact_seconds', help: 'Unix time of the last answer from the vault', registers: [registry] }),
  };
}
export type AgentMetrics = ReturnType<typeof createAgentMetrics>;
