/**
 * The store's tables, as Kysely sees them. The schema itself is created by `migrations/`; this file
 * and the migrations change together.
 *
 * Portable column conventions (the same migrations run on SQLite and PostgreSQL):
 * - ids: TEXT, `crypto.randomUUID()` made by the application (no sequences, no SERIAL).
 * - timestamps and durations: INTEGER (SQLite) / BIGINT (PostgreSQL), milliseconds since the epoch
 *   (durations in ms, columns named `*_ms`). PostgreSQL's int8 comes back as a JS number because
 *   each store's pg.Pool installs its own type parser (never the global one).
 * - booleans: INTEGER 0/1 on both (typed `Bool01`), with a CHECK that only 0 and 1 go in.
 * - JSON: TEXT holding `JSON.stringify` output (typed `Json`); parse it in the module that owns it.
 * - binary (keys, ciphertexts): BLOB (SQLite) / BYTEA (PostgreSQL); both drivers return a Buffer.
 * - states and kinds: TEXT; the allowed values are the string unions below. There is deliberately
 *   no CHECK on them: SQLite cannot change a CHECK without rebuilding the table, and later work
 *   must be able to add a state with an ordinary migration.
 * - no database-side defaults except 0 for counters and flags; the application supplies `now`.
 *
 * @example
 *   const row = await store.db.selectFrom('projects').selectAll().where('name', '=', 'shop').executeTakeFirst();
 *   row?.created_at; // number (ms)
 */
import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';
import type { Engine, Flavour, LeaseJobKind, LeaseState, RotationKind, RotationState, Strategy } from '../../protocol/api-types.js';

/** The rotation kinds and states are the wire's (protocol/api-types.ts): one definition. */
export type { RotationKind, RotationState } from '../../protocol/api-types.js';

/** Milliseconds since the Unix epoch. */
export type Ms = number;
/** A boolean stored as INTEGER 0/1. */
export type Bool01 = 0 | 1;
/** A TEXT column holding JSON. */
export type Json = string;
/** A column the database fills with 0 when the insert leaves it out. */
export type Counter = Generated<number>;
export type Flag = ColumnType<Bool01, Bool01 | undefined, Bool01>;

/** Key/value facts about this vault: `vault_id` (UTF-8), `root_key_check` (the keyring's check value). */
export interface VaultMetaTable {
  key: string;
  value: Buffer;
  updated_at: Ms;
}

export interface ProjectsTable {
  id: string;
  name: string;
  /** The current project master key, wrapped under the root key (also in `project_keys`). */
  master_key_wrapped: Buffer;
  key_version: number;
  locked_at: Ms | null;
  locked_reason: string | null;
  created_at: Ms;
  /** In the trash since (migration 0007); purged after `serve --trash-days`. */
  deleted_at: Ms | null;
  deleted_by: string | null;
  /** Keep this project's audit events this long when it is longer than `serve --audit-retention` (0015); null: the vault's. */
  audit_retention_ms: Ms | null;
}

/** Every project key version still referenced by a secret version (the current one included). */
export interface ProjectKeysTable {
  project_id: string;
  key_version: number;
  wrapped: Buffer;
  created_at: Ms;
}

export type SecretKind = 'plain' | 'structured' | 'database';

export interface SecretsTable {
  id: string;
  project_id: string;
  name: string;
  kind: SecretKind;
  is_canary: Flag;
  /** `canary create --lock-machine-projects`: a trip also locks the reader's other projects. */
  canary_lock_machine_projects: Flag;
  current_version: number | null;
  created_at: Ms;
  /** In the trash since (migration 0007): reads 404, grants do not apply, policies pause. */
  deleted_at: Ms | null;
  deleted_by: string | null;
  description: string | null;
  /** JSON object of string tags, e.g. {"team":"payments"}. */
  tags: Json | null;
  /** The access policy bound to it (migration 0013); null = none. */
  policy_id: ColumnType<string | null, string | null | undefined, string | null>;
}

export type SecretVersionState = 'pending' | 'live' | 'previous' | 'retired' | 'discarded';

/** At most one `live` row per secret (a partial unique index): demote the old live first. */
export interface SecretVersionsTable {
  id: string;
  secret_id: string;
  version: number;
  state: SecretVersionState;
  ciphertext: Buffer;
  wrapped_data_key: Buffer;
  project_key_version: number;
  created_at: Ms;
  promoted_at: Ms | null;
  /** "<actor kind>:<actor id>" or "rotation:<id>". */
  created_by: string | null;
}

/** A machine's grant: a whole project (`secret_id` null), one secret, or some fields of one. */
export interface GrantsTable {
  id: string;
  machine_id: string;
  project_id: string;
  secret_id: string | null;
  /** JSON array of field names; null = every field. */
  fields: Json | null;
  created_at: Ms;
  created_by: string | null;
}

export type OperatorRole = 'owner' | 'admin' | 'viewer';
export type IdentityStatus = 'active' | 'disabled';

export interface OperatorsTable {
  id: string;
  name: string;
  role: OperatorRole;
  status: IdentityStatus;
  created_at: Ms;
  created_by: string | null;
}

/** An operator's keys (migration 0006): one person, several devices; a revoked key stays, refused. */
export interface OperatorKeysTable {
  /** RFC 7638 thumbprint of the public key. */
  key_id: string;
  operator_id: string;
  /** Raw 32-byte Ed25519 public key. */
  public_key: Buffer;
  label: string;
  created_at: Ms;
  created_by: string | null;
  /** Written at most once a minute per key (it does not move the change counter). */
  last_used_at: Ms | null;
  revoked_at: Ms | null;
  revoked_by: string | null;
}

/** Single-use invitations: a new operator (`role` set) or one more key for an existing one (`operator_id` set). */
export interface OperatorInvitationsTable {
  id: string;
  /** SHA-256 (hex) of the token; the token itself is never stored. */
  token_hash: string;
  name: string;
  role: OperatorRole | null;
  operator_id: string | null;
  expires_at: Ms;
  created_at: Ms;
  created_by: string;
  accepted_at: Ms | null;
  accepted_key_id: string | null;
  revoked_at: Ms | null;
}

export type MachineStatus = 'pending_approval' | 'active' | 'disabled' | 'expired';

export interface MachinesTable {
  id: string;
  name: string;
  public_key: Buffer;
  key_id: string;
  /** JSON array of strings. */
  labels: Json;
  status: MachineStatus;
  expires_at: Ms | null;
  /** JSON array of CIDRs; null = any address. */
  ip_allowlist: Json | null;
  /** JSON array of ISO-3166 alpha-2 codes; null = any country. */
  country_allowlist: Json | null;
  /** IANA time-of-day window, e.g. "08:00-18:00 Europe/Oslo"; null = any time. */
  time_window: string | null;
  /** JSON object of further constraints; a key the server does not know fails closed. */
  constraints: Json | null;
  /** 'operator' | 'enrollment_token' | 'bootstrap_token' | … */
  created_via: string;
  created_by: string | null;
  /** The enrollment/bootstrap token the machine registered with. */
  token_id: string | null;
  approved_at: Ms | null;
  approved_by: string | null;
  last_seen_at: Ms | null;
  disabled_at: Ms | null;
  created_at: Ms;
}

export interface AiAgentsTable {
  id: string;
  name: string;
  public_key: Buffer;
  key_id: string;
  /** JSON array of scopes from vault-server/http/ai-scopes.ts, e.g. ["machines:read", "audit:read"]. */
  scopes: Json;
  status: AiAgentStatus;
  created_at: Ms;
  /** The operator who created it. */
  created_by: string | null;
  /** JSON array of CIDRs the agent may call from; null = any address (migration 0012). */
  ip_allowlist: Json | null;
  /** Requests per minute per key; null = the vault's default (0012). */
  rate_per_minute: number | null;
  disabled_at: Ms | null;
  revoked_at: Ms | null;
}

/** `revoked` is for good: the key is refused and the name stays taken. */
export type AiAgentStatus = 'active' | 'disabled' | 'revoked';

/** Enrollment tokens (fleets) and temp-bootstrap tokens (one machine) share one shape. */
export interface TokensTable {
  id: string;
  /** SHA-256 (hex) of the token; the token itself is never stored. */
  token_hash: string;
  /** A name for lists and audit. */
  name: string | null;
  /** JSON array of pre-baked grants: [{project, secret?, fields?}]. */
  grants: Json;
  /** JSON object: hostname regex, source CIDR, name template, IP/country allowlists, time window… */
  constraints: Json | null;
  /** JSON array of labels given to machines it enrols. */
  labels: Json | null;
  uses: Counter;
  /** null = unlimited (enrollment); 1 for a bootstrap token. */
  max_uses: number | null;
  expires_at: Ms;
  revoked_at: Ms | null;
  /** Machines enrolled with it expire this long after registration; null = never. */
  machine_lifetime_ms: Ms | null;
  /** Machines it enrols wait for an operator (always so when an AI agent created the token). */
  requires_approval: Flag;
  created_by: string;
  /** 'operator' | 'ai_agent': who created it decides whether its machines need approval. */
  created_by_kind: string;
  created_at: Ms;
}

/** Each change of a machine's expiry, with what it was, so an extension can be reverted. */
export interface MachineExtensionsTable {
  id: string;
  machine_id: string;
  previous_expires_at: Ms | null;
  new_expires_at: Ms | null;
  reason: string | null;
  actor: string;
  created_at: Ms;
  reverted_at: Ms | null;
  reverted_by: string | null;
}

export type RotationStrategy = Strategy;

export interface RotationPoliciesTable {
  id: string;
  secret_id: string;
  /** 'postgres' | 'supabase' | 'mysql' | 'redis' | 'mongodb' */
  provider: string;
  strategy: RotationStrategy;
  /** Cron expression; null = manual only (`rotation run`). */
  schedule: string | null;
  timezone: string | null;
  agent_machine_id: string | null;
  agent_label: string | null;
  admin_secret_id: string;
  /** JSON object: length, alphabet… */
  password_policy: Json | null;
  grace_ms: Ms;
  enabled: Flag;
  /** Why a disabled policy is paused when not by an operator: 'secret_deleted' | 'project_deleted' | 'machine_removed' (migration 0007), 'awaiting_approval' (0012). */
  paused_reason: string | null;
  next_run_at: Ms | null;
  failing: Flag;
  consecutive_failures: Counter;
  alternate_username: string | null;
  created_at: Ms;
  updated_at: Ms;
  /** Since when no agent that may run this policy has been seen (migration 0002); null = one is alive. */
  no_agent_since: Ms | null;
  /** The scheduled fire time a `rotation.overdue` was raised for (migration 0009). */
  overdue_for: Ms | null;
  /** `alternating`: the secret's username when the policy was set; the other is `alternate_username` (0002). */
  primary_username: string | null;
  /**
   * What the last preflight that reported it found the server to be (protocol/engines.ts), and its
   * version (migration 0003); null before that, and again after `--provider` changes. The strategy
   * checks at `rotation set` and at claim read them.
   */
  flavour: Flavour | null;
  server_version: string | null;
  /** How often the agent probes the live credential (migration 0011); 0 = never. */
  drift_interval_ms: ColumnType<Ms, Ms | undefined, Ms>;
  /** When the next drift probe is due (null: now); a claim moves it forward by the probe lease. */
  drift_due_at: Ms | null;
  /** What the last probe reported: when, whether the live credential logged in, and why not. */
  drift_checked_at: Ms | null;
  drift_ok: Bool01 | null;
  drift_code: string | null;
  drift_message: string | null;
  /** Since when the database refuses the live credential; null while it works (one `rotation.drift` per streak). */
  drift_failing_since: Ms | null;
  /**
   * The AI agent whose `rotation set` created or changed the policy, until an operator's
   * `rotation approve` (migration 0012); while set the policy is paused (`awaiting_approval`) and
   * none of its jobs is handed out.
   */
  awaiting_approval_by: string | null;
}

/** The states the "one unfinished rotation per secret" index covers. */
export const UNFINISHED_ROTATION_STATES = ['pending', 'claimed', 'applied', 'stuck'] as const satisfies readonly RotationState[];

/**
 * One job of the rotation state machine (DESIGN §6, docs/rotation-states.md). At most one row per
 * secret is in an unfinished state (`UNFINISHED_ROTATION_STATES`), whatever its kind. A job that
 * succeeded ends in its kind's `SUCCEEDED_STATE` (`promoted`, `retired`, `preflight_passed`). `fence` counts the claims
 * of this rotation: each claim increments it, and a report must carry the current value.
 */
export interface RotationsTable {
  id: string;
  secret_id: string;
  policy_id: string | null;
  kind: RotationKind;
  state: RotationState;
  attempt: Counter;
  pending_version_id: string | null;
  /** The machine id holding the claim. */
  claimed_by: string | null;
  lease_until: Ms | null;
  fence: Counter;
  maybe_applied: Flag;
  error: string | null;
  error_code: string | null;
  /**
   * The failure `error` describes (migration 0008): when it was reported, which attempt it was and
   * the retry budget then in force (`rotation status` → `lastError`). Null before that migration,
   * on rows that never failed, and once a retried job succeeds.
   */
  error_at: Ms | null;
  error_attempt: number | null;
  error_max_attempts: number | null;
  created_at: Ms;
  claimed_at: Ms | null;
  applied_at: Ms | null;
  finished_at: Ms | null;
  /** Backoff: not claimable before this time. */
  not_before: Ms | null;
  /** JSON object: trigger, requested_by, live_verified, … (never a credential). */
  details: Json | null;
  /** JSON array: each agent report's claim times, outcome and step timings (migration 0016; rotation-timeline.ts). */
  step_reports: Json | null;
}

/**
 * The hash-chained audit log. `seq` is assigned by the appender (head seq + 1) while it holds the
 * chain head, so both dialects number events 1, 2, 3… with no gap.
 */
export interface AuditEventsTable {
  seq: number;
  id: string;
  at: Ms;
  actor_kind: string;
  actor_id: string | null;
  action: string;
  project_id: string | null;
  target: string;
  outcome: string;
  source_ip: string | null;
  details: Json;
  prev_hash: string;
  hash: string;
  /** HMAC-SHA256(audit MAC key, hash), hex; null for events written before the log was keyed (migration 0004). */
  mac: string | null;
  /** The actor's name when the event was written (0014); covered by the hash when not null. */
  actor_name: string | null;
}

/** One row per retention sweep (0014): the signed boundary the kept chain starts from. */
export interface AuditPrunesTable {
  /** The last pruned event; the kept chain starts at last_seq + 1 with prev_hash = hash. */
  last_seq: number;
  first_seq: number;
  hash: string;
  at: Ms;
  /** Ed25519 over pruneBoundaryMessage(first_seq, last_seq, hash, at), base64 (boundaries written before it: checkpointMessage(last_seq, hash, at)). */
  signature: string;
  public_key: string;
  pruned_at: Ms;
  events: number;
}

/** How far a sink has durably delivered (0014). */
export interface AuditSinkCursorTable {
  sink: string;
  seq: number;
  updated_at: Ms;
}

/** One row (id = 1), created by the first migration with seq 0 and 64 zeros as hash. */
export interface AuditHeadTable {
  id: number;
  seq: number;
  hash: string;
  /** HMAC-SHA256(audit MAC key, "sk/audit-head/v1" ‖ seq ‖ hash), hex: truncation needs the key too. */
  mac: string | null;
}

export interface WebhooksTable {
  id: string;
  url: string;
  /** The HMAC signing secret, sealed (never stored in clear). */
  secret_sealed: Buffer;
  /** JSON array of event types, e.g. ["canary.tripped"]. */
  events: Json;
  enabled: Flag;
  /** Operator allowlist exception for a private target. */
  allow_private: Flag;
  created_at: Ms;
  created_by: string | null;
  /** The secret before the last `rotate-secret`, sealed; signed with too until `previous_expires_at` (0008). */
  secret_previous_sealed: Buffer | null;
  previous_expires_at: Ms | null;
  /** Bumped by each rotate-secret: part of the seal's AAD, so an old box cannot be put back. */
  secret_version: Generated<number>;
  /** The first failed attempt since the last successful delivery (0008). */
  failures_since: Ms | null;
  /** Set once the failures have lasted an hour (one `webhook.failing` event); cleared by a success. */
  failing_since: Ms | null;
}

/** "Send these events (of this project, at least this severity) to that webhook" (0008). */
export interface AlertRulesTable {
  id: string;
  webhook_id: string;
  /** JSON array of event types. */
  events: Json;
  project_id: string | null;
  min_severity: 'info' | 'warning' | 'critical';
  created_at: Ms;
  created_by: string | null;
}

export type WebhookDeliveryState = 'pending' | 'delivered' | 'failed';

export interface WebhookDeliveriesTable {
  id: string;
  webhook_id: string;
  event_id: string;
  event_type: string;
  payload: Json;
  state: WebhookDeliveryState;
  attempts: Counter;
  next_attempt_at: Ms | null;
  last_status: number | null;
  last_error: string | null;
  created_at: Ms;
  delivered_at: Ms | null;
  /** The worker holding the delivery while it sends, and until when (0008). */
  lease_until: Ms | null;
  claimed_by: string | null;
  last_latency_ms: number | null;
  /** Retries stop here: 24 h after creation, or after an operator's redeliver. */
  give_up_at: Ms | null;
}

/** An access policy (migration 0013): every axis optional, null = not set. */
export interface AccessPoliciesTable {
  id: string;
  project_id: string;
  name: string;
  /** `[DAYS ]HH:MM-HH:MM ZONE` (modules/machines/machine-time-window.ts). */
  time_window: string | null;
  /** JSON array of CIDRs. */
  ip_allowlist: Json | null;
  max_reads_per_minute: number | null;
  max_reads_per_day: number | null;
  /** Set: a read needs a co-sign this recent. */
  cosign_window_ms: Ms | null;
  /** Only this machine may co-sign; null = any active machine other than the reader. */
  cosign_machine_id: string | null;
  expires_at: Ms | null;
  max_reads: number | null;
  rotate_after_reads: number | null;
  created_at: Ms;
  updated_at: Ms;
  created_by: string | null;
}

/** Per bound secret: the counters a policy keeps; taken FOR UPDATE by each counted read. */
export interface AccessPolicyStateTable {
  secret_id: string;
  reads_served: Counter;
  reads_since_rotation: Counter;
  bound_at: Ms;
}

/** Served reads of a policy-bound secret within the last 24 h (sliding rate caps). */
export interface AccessPolicyReadsTable {
  id: string;
  secret_id: string;
  at: Ms;
}

/** One co-sign: `cosigner` approves one read of `secret` by `requester` until `expires_at`. */
export interface AccessPolicyCosignsTable {
  id: string;
  secret_id: string;
  requester_machine_id: string;
  cosigner_machine_id: string;
  created_at: Ms;
  expires_at: Ms;
  used_at: Ms | null;
}

/** A grant by machine label (migration 0013): every active machine with the label holds it. */
export interface LabelGrantsTable {
  id: string;
  label: string;
  project_id: string;
  secret_id: string | null;
  /** JSON array of field names; null = every field. */
  fields: Json | null;
  created_at: Ms;
  created_by: string | null;
}

/** Used request nonces: (key id, SHA-256 of the nonce) once each, until `expires_at` (ms). */
export interface NoncesTable {
  key_id: string;
  nonce_hash: string;
  expires_at: Ms;
}

/** One row (id = 1): moved by triggers on every change to a cached table (migration 0005, store/change-counter.ts). */
export interface ChangeCounterTable {
  id: number;
  n: number;
}

/** One-holder-at-a-time jobs (expiry sweeper, scheduler) across replicas. */
export interface SweeperLeasesTable {
  name: string;
  holder: string;
  lease_until: Ms;
}

/** A lease role (migration 0017, docs/leases.md): what a leased login of (project, name) gets. */
export interface LeaseRolesTable {
  id: string;
  project_id: string;
  name: string;
  engine: Engine;
  agent_machine_id: string | null;
  agent_label: string | null;
  admin_secret_id: string;
  ttl_ms: Ms;
  max_ttl_ms: Ms;
  max_leases: number | null;
  /** Live leases one machine may hold of this role at once; null: DEFAULT_MACHINE_LEASES_PER_ROLE (10). */
  max_leases_per_machine: number | null;
  /** JSON LeaseGrant (protocol/api-types.ts). */
  grant_spec: Json;
  created_at: Ms;
  updated_at: Ms;
  created_by: string | null;
}

/** One leased login; the row (intent) commits before the agent may create the login. */
export interface LeasesTable {
  id: string;
  role_id: string;
  project_id: string;
  machine_id: string;
  username: string;
  /** The password sealed under a data key (AAD: project, `lease:<id>`, 1). */
  password_ciphertext: Buffer;
  password_wrapped_key: Buffer;
  project_key_version: number;
  state: LeaseState;
  /** Why it is revoking/ended: `expired`, `owner`, `operator`, `grant_removed`, `machine_disabled`, `canary`, `create_failed`… */
  end_reason: string | null;
  created_at: Ms;
  active_at: Ms | null;
  expires_at: Ms;
  max_expires_at: Ms;
  ended_at: Ms | null;
}

export type LeaseJobState = 'pending' | 'claimed' | 'done' | 'cancelled';

export interface LeaseJobsTable {
  id: string;
  lease_id: string;
  kind: LeaseJobKind;
  state: LeaseJobState;
  fence: number;
  claimed_by: string | null;
  lease_until: Ms | null;
  attempts: number;
  not_before: Ms | null;
  /** A renew job: the expiresAt it moves the login's validity to. */
  renew_to: Ms | null;
  error_code: string | null;
  error: string | null;
  created_at: Ms;
  finished_at: Ms | null;
}

/** A machine's grant on a lease role. */
export interface LeaseGrantsTable {
  id: string;
  machine_id: string;
  lease_role_id: string;
  created_at: Ms;
  created_by: string | null;
}

export interface Database {
  vault_meta: VaultMetaTable;
  projects: ProjectsTable;
  project_keys: ProjectKeysTable;
  secrets: SecretsTable;
  secret_versions: SecretVersionsTable;
  grants: GrantsTable;
  operators: OperatorsTable;
  operator_keys: OperatorKeysTable;
  operator_invitations: OperatorInvitationsTable;
  machines: MachinesTable;
  ai_agents: AiAgentsTable;
  enrollment_tokens: TokensTable;
  bootstrap_tokens: TokensTable;
  machine_extensions: MachineExtensionsTable;
  rotation_policies: RotationPoliciesTable;
  rotations: RotationsTable;
  audit_events: AuditEventsTable;
  audit_head: AuditHeadTable;
  audit_prunes: AuditPrunesTable;
  audit_sink_cursor: AuditSinkCursorTable;
  webhooks: WebhooksTable;
  webhook_deliveries: WebhookDeliveriesTable;
  alert_rules: AlertRulesTable;
  nonces: NoncesTable;
  change_counter: ChangeCounterTable;
  sweeper_leases: SweeperLeasesTable;
  access_policies: AccessPoliciesTable;
  access_policy_state: AccessPolicyStateTable;
  access_policy_reads: AccessPolicyReadsTable;
  access_policy_cosigns: AccessPolicyCosignsTable;
  label_grants: LabelGrantsTable;
  lease_roles: LeaseRolesTable;
  leases: LeasesTable;
  lease_jobs: LeaseJobsTable;
  lease_grants: LeaseGrantsTable;
}

export type TableName = keyof Database;
/** A row as read, as written, as updated: `Row<'projects'>`, `NewRow<'projects'>`, `RowUpdate<'projects'>`. */
export type Row<T extends TableName> = Selectable<Database[T]>;
export type NewRow<T extends TableName> = Insertable<Database[T]>;
export type RowUpdate<T extends TableName> = Updateable<Database[T]>;
