/**
 * A rotation job's timeline (issue 29): what the vault recorded of each claim — when it was
 * claimed, when the agent reported it applied, what its report led to — beside the step timings
 * the agent sent with `confirm` / `fail` (claimed → connected → applied → verified, or undone).
 *
 * Stored per job in `rotations.step_reports` (migration 0016): a JSON array of reports, one per
 * report an agent made (and one per preflight result), the newest MAX_STORED_REPORTS kept. Each
 * report carries the vault's own claimed/applied times of that claim, because the row's columns
 * hold only the latest claim's. A job's timeline is rebuilt from the row at read time
 * (`buildTimeline`); rows written before 0016 get the vault events their columns still show.
 *
 * The timeline is in the order the job went through its steps, not sorted by `at`: agent entries
 * carry the agent's clock, vault entries the vault's, and the two may differ a little.
 *
 * @example
 *   await trx.updateTable('rotations').set({ step_reports: appendReport(row, { result: 'promoted', reportedAt: now, steps }) })…
 *   buildTimeline(row)   // → [{ source: 'vault', step: 'created', at }, { source: 'vault', step: 'claimed', at, attempt: 1 }, …]
 */
import { AGENT_STEP_NAMES, MAX_AGENT_STEPS } from '../../../protocol/api-types.js';
import type { AgentStepTiming, RotationState, TimelineEntry } from '../../../protocol/api-types.js';
import { safeInteger } from '../../http/validation.js';

/** Reports kept per job: more than a job's retry budget (5 unproven attempts) plus its ending. */
export const MAX_STORED_REPORTS = 12;
/** A step longer than a day is not a step time an agent could have measured: refused. */
const MAX_STEP_MS = 86_400_000;

/** The JSON schema of `steps` in the confirm and fail bodies (bounded: MAX_AGENT_STEPS entries). */
export const STEPS_SCHEMA = {
  type: 'array', maxItems: MAX_AGENT_STEPS,
  items: {
    type: 'object', additionalProperties: false, required: ['step', 'at', 'ms'],
    properties: { step: { type: 'string', enum: [...AGENT_STEP_NAMES] }, at: safeInteger({ minimum: 0 }), ms: safeInteger({ minimum: 0, maximum: MAX_STEP_MS }) },
  },
} as const;

/** What one report left in `step_reports`. */
export interface StoredReport {
  attempt: number;
  /** The vault's time of this claim, and of its `applied` report (null: none before this report). */
  claimedAt: number | null;
  appliedAt: number | null;
  reportedAt: number;
  /** What the report led to: the state the job went to, or `retry` (back to pending). */
  result: RotationState | 'retry';
  steps: AgentStepTiming[];
}

/** The columns of a `rotations` row the timeline is made from. */
export interface TimelineRow {
  state: RotationState;
  attempt: number;
  created_at: number;
  claimed_at: number | null;
  applied_at: number | null;
  finished_at: number | null;
  step_reports: string | null;
}

export function readReports(json: string | null): StoredReport[] {
  if (json === null) return [];
  try {
    const parsed = JSON.parse(json) as unknown;
    return Array.isArray(parsed) ? (parsed as StoredReport[]) : [];
  } catch {
    return [];
  }
}

/** The applied time of the row's current claim (the column keeps an earlier claim's until the next applied). */
function appliedOfClaim(row: Pick<TimelineRow, 'claimed_at' | 'applied_at'>): number | null {
  return row.applied_at !== null && row.claimed_at !== null && row.applied_at >= row.claimed_at ? row.applied_at : null;
}

/** `step_reports` with one more report of the row's current claim (the oldest dropped beyond MAX_STORED_REPORTS). */
export function appendReport(row: TimelineRow, report: { result: StoredReport['result']; reportedAt: number; steps?: readonly AgentStepTiming[] | undefined }): string {
  const reports = readReports(row.step_reports);
  reports.push({
    attempt: row.attempt, claimedAt: row.claimed_at, appliedAt: appliedOfClaim(row), reportedAt: report.reportedAt, result: report.result,
    steps: (report.steps ?? []).slice(0, MAX_AGENT_STEPS).map((s) => ({ step: s.step, at: s.at, ms: s.ms })),
  });
  return JSON.stringify(reports.slice(-MAX_STORED_REPORTS));
}

const ENDED: ReadonlySet<string> = new Set<RotationState>(['promoted', 'retired', 'preflight_passed', 'failed', 'cancelled']);

/** The claim's entries: the vault's claimed, then the agent's steps with the vault's applied after the agent's own (or before its verified / undone). */
function claimEntries(attempt: number, claimedAt: number | null, appliedAt: number | null, steps: readonly AgentStepTiming[]): TimelineEntry[] {
  const out: TimelineEntry[] = [];
  if (claimedAt !== null) out.push({ source: 'vault', step: 'claimed', at: claimedAt, attempt });
  let appliedShown = appliedAt === null;
  const showApplied = (): void => {
    if (appliedShown || appliedAt === null) return;
    out.push({ source: 'vault', step: 'applied', at: appliedAt, attempt });
    appliedShown = true;
  };
  for (const s of steps) {
    // The vault heard `applied` after the agent applied, and before it verified or undid anything.
    if (s.step === 'verified' || s.step === 'undone') showApplied();
    out.push({ source: 'agent', step: s.step, at: s.at, ms: s.ms, attempt });
    if (s.step === 'applied') showApplied();
  }
  if (!appliedShown && appliedAt !== null) out.push({ source: 'vault', step: 'applied', at: appliedAt, attempt });
  return out;
}

/** The job's timeline (TimelineEntry in protocol/api-types.ts). */
export function buildTimeline(row: TimelineRow): TimelineEntry[] {
  const out: TimelineEntry[] = [{ source: 'vault', step: 'created', at: row.created_at }];
  const reports = readReports(row.step_reports);
  for (const r of reports) {
    out.push(...claimEntries(r.attempt, r.claimedAt, r.appliedAt, r.steps));
    out.push({ source: 'vault', step: r.result, at: r.reportedAt, attempt: r.attempt });
  }
  const last = reports[reports.length - 1];
  // The current claim, not reported yet (or every claim of a row written before migration 0016).
  if (row.claimed_at !== null && (last === undefined || row.attempt > last.attempt)) {
    out.push(...claimEntries(row.attempt, row.claimed_at, appliedOfClaim(row), []));
  }
  // An ending no agent report recorded: a cancellation, an operator's resolve, a refused claim.
  if (ENDED.has(row.state) && row.finished_at !== null && !(last !== undefined && last.result === row.state && last.reportedAt === row.finished_at)) {
    out.push({ source: 'vault', step: row.state, at: row.finished_at });
  }
  return out;
}
