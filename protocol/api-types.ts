/**
 * Types on the wire between the vault, the agent and applications. The vault, the agent and the
 * providers all take these names from here, so they cannot drift apart.
 */

export type Engine = 'postgres' | 'supabase' | 'mysql' | 'redis' | 'mongodb';
export const ENGINES: readonly Engine[] = ['postgres', 'supabase', 'mysql', 'redis', 'mongodb'];

export type Strategy = 'single' | 'dual' | 'alternating';
export const STRATEGIES: readonly Strategy[] = ['single', 'dual', 'alternating'];

export type RotationKind = 'rotate' | 'retire' | 'preflight';
export type RotationState = 'pending' | 'claimed' | 'applied' | 'promoted' | 'failed' | 'stuck' | 'cancelled';

/** `GET /v1/agent/rotations?wait=30` → 200 with this body (204 when nothing came due in the wait). */
export interface AgentJobList {
  jobs: Array<{ id: string; kind: RotationKind; project: string; secret: string }>;
}

/**
 * `POST /v1/agent/rotations/{id}/claim` → 200. The only message that carries plaintext
 * credentials (pending, live, admin); nothing of it is ever written to the agent's disk.
 */
export interface ClaimResponse {
  id: string;
  kind: RotationKind;
  project: string;
  secret: string;
  engine: Engine;
  strategy: Strategy;
  /** Increments with every claim; each report must carry it. */
  fence: number;
  /** Renew with a heartbeat well before this many seconds pass. */
  leaseSeconds: number;
  attempt: number;
  /** True when an earlier claim may already have applied the pending credential: reconcile first. */
  maybeApplied: boolean;
  /** The user whose credential changes in this job. */
  username: string;
  /** The credential to apply (rotate). */
  pendingPassword: string | null;
  /** The credential applications read now; what to restore if the pending one fails. */
  livePassword: string;
  /** The rotated secret's fields as live (host, port, database, tls…), for verification. */
  target: Record<string, string>;
  /** The admin secret's fields, to connect and change credentials. */
  admin: Record<string, string>;
  /** For preflight: every user the policy will change. */
  usernames: string[];
  /** For retire (dual): the old password to remove. */
  retirePassword: string | null;
}

export interface FenceBody { fence: number }

export interface FailBody {
  fence: number;
  /** A registered error code describing what failed. */
  code: string;
  message: string;
  /** The agent proved the live credential logs in (restoring it first if needed). */
  liveVerified: boolean;
  /** Neither the pending nor the live credential logs in: the rotation is stuck. */
  neitherWorks?: boolean;
}

export interface PreflightResultBody {
  fence: number;
  ok: boolean;
  problems: string[];
}

export interface RotationStepResponse {
  id: string;
  state: RotationState;
  version?: number;
}

/** `rotation status --json` (DESIGN §11). */
export interface RotationStatus {
  state: RotationState | 'none';
  rotationId: string | null;
  version: number | null;
  lastSuccessAt: number | null;
  lastError: string | null;
  nextRunAt: number | null;
  latencyMs: number | null;
  agent: { name: string | null; lastSeenAt: number | null };
}
