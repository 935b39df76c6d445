/**
 * The shapes of the vault's answers the dashboard reads (a subset of each; see the route modules
 * under vault-server/modules). Kept here because the UI bundle cannot import server code.
 */
export interface Project { id: string; name: string; keyVersion: number; locked: boolean; lockedReason: string | null; createdAt: number }
export interface SecretItem { name: string; kind: string; version: number | null; isCanary?: boolean; createdAt: number; policy?: string }
export interface Version { version: number; state: string; createdAt: number; promotedAt: number | null; projectKeyVersion: number }
export interface Machine { id: string; name: string; keyId: string; labels: string[]; status: string; expiresAt: number | null; lastSeenAt: number | null; createdVia: string; createdAt: number }
export interface Grant { id: string; machine?: string; label?: string; project: string; secret?: string | null; fields?: string[] | null; leaseRole?: string | null }
export interface PolicyItem {
  project: string; secret: string; provider: string; strategy: string; agent: string | null; agentLabel: string | null; enabled: boolean;
  failing: boolean; state: string; nextRunAt: number | null; lastError: { code: string; message: string; at: number } | null;
}
export interface RotationStatus {
  state: string; rotationId: string | null; version: number | null; lastSuccessAt: number | null;
  lastError: { code: string; message: string; at: number } | null; nextAttemptAt: number | null; nextRunAt: number | null;
  enabled: boolean; pausedReason: string | null; latencyMs: number | null; agent: { name: string | null; lastSeenAt: number | null };
}
/**
 * One entry of a job's timeline (protocol/api-types.ts TimelineEntry): a transition the vault
 * recorded, or a step the agent timed (`ms`: how long it took, by the agent's clock).
 */
export interface TimelineStep { source: 'vault' | 'agent'; step: string; at: number; ms?: number; attempt?: number }
export interface RotationJob {
  id: string; kind: string; state: string; project: string; secret: string; attempt: number; error: string | null; errorCode: string | null;
  createdAt: number; finishedAt: number | null; latencyMs: number | null; timeline?: TimelineStep[];
}
export interface AuditEvent {
  seq: number; id: string; at: number; actorKind: string; actorId: string | null; actorName: string | null; action: string; target: string;
  outcome: string; severity: string; sourceIp: string | null; details: Record<string, unknown>;
}
export interface ChainReport { ok: boolean; events: number; macs?: number; firstBad?: { seq: number; reason: string } }
export interface Operator { id: string; name: string; role: string; status: string; keys: number; lastUsedAt: number | null; createdAt: number }
export interface OperatorKey { keyId: string; label: string; createdAt: number; lastUsedAt: number | null; revokedAt: number | null }
export interface Invitation { id: string; name: string; role: string; existing?: boolean; expiresAt: number; status: string; acceptedAt: number | null }
export interface Canary { name: string; kind: string; version: number | null; lockMachineProjects: boolean; createdAt: number }
export interface Webhook { id: string; url: string; events: string[] }
