/**
 * `sikkerkey audit verify --file export.jsonl [--checkpoint FILE]`: checks an export offline,
 * without the vault. Every line is one event as `audit export --format jsonl` wrote it, oldest
 * first. Each line's hash must be SHA-256(prevHash ‖ canonical event) (an edited line fails),
 * sequence numbers must rise (a reordered or duplicated line fails) and where two lines are
 * consecutive events the second's prevHash must be the first's hash (a line inserted, dropped or
 * swapped between them fails). A filtered export has gaps between its events: those are counted,
 * and only each event's own hash can be checked across them.
 *
 * The hashes alone prove consistency, not authorship: whoever edits a line can recompute its hash
 * and every later one. A signed checkpoint (`audit head --json`, saved when the export was taken)
 * closes that: its event must be in the file with the same hash and time, and every event of the
 * contiguous run that ends at it is then proven by the vault's signature. The MACs are carried so
 * the export can be checked against the vault later; they cannot be checked offline (the MAC key
 * never leaves the vault).
 *
 * Reads the file line by line: memory does not grow with the export.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { SikkerKeyError } from '../../protocol/errors.js';
import { verifyCheckpointSignature } from '../../protocol/audit-checkpoint.js';
import type { AuditCheckpoint } from '../../protocol/audit-checkpoint.js';
import { canonicalEvent, chainHash } from '../modules/audit/audit-chain.js';
import type { ActorKind, Outcome } from '../modules/audit/audit-chain.js';

export interface FileVerifyReport {
  ok: boolean;
  events: number;
  firstSeq: number | null;
  lastSeq: number | null;
  /** Places where the file skips events (a filtered export): the chain cannot be followed across them. */
  gaps: number;
  /** Set with a checkpoint that holds: every event from this seq to the checkpoint's is proven by its signature. */
  provenFrom?: number;
  checkpoint?: { seq: number; ok: boolean };
  firstBad?: { line: number; seq: number | null; reason: string };
}

interface ExportedEvent {
  seq: number; id: string; at: number; actorKind: ActorKind; actorId: string | null; actorName: string | null; actorNameRecorded?: boolean;
  action: string; projectId: string | null; target: string; outcome: Outcome; sourceIp: string | null; details: Record<string, unknown>;
  prevHash: string; hash: string; mac: string | null;
}

const HEX64 = /^[0-9a-f]{64}$/;
const nullableString = (v: unknown): boolean => v === null || typeof v === 'string';

function parseLine(text: string): ExportedEvent | string {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return 'the line is not JSON';
  }
  const o = v as Record<string, unknown>;
  if (!o || typeof o !== 'object' || Array.isArray(o)) return 'the line is not a JSON object';
  const ok = Number.isSafeInteger(o.seq) && (o.seq as number) >= 1 && typeof o.id === 'string' && Number.isSafeInteger(o.at)
    && typeof o.actorKind === 'string' && nullableString(o.actorId) && nullableString(o.actorName ?? null) && typeof o.action === 'string'
    && nullableString(o.projectId) && typeof o.target === 'string' && typeof o.outcome === 'string' && nullableString(o.sourceIp)
    && o.details !== null && typeof o.details === 'object' && !Array.isArray(o.details)
    && typeof o.prevHash === 'string' && HEX64.test(o.prevHash) && typeof o.hash === 'string' && HEX64.test(o.hash) && nullableString(o.mac ?? null);
  if (!ok) return 'the line lacks a field of an exported event (seq, id, at, actorKind, actorId, action, projectId, target, outcome, sourceIp, details, prevHash, hash)';
  return o as unknown as ExportedEvent;
}

/** Verifies an exported JSONL file (see the file comment). Throws SK_ERR_AUDIT_EXPORT only when the file cannot be read. */
export async function verifyExportFile(path: string, cp?: AuditCheckpoint): Promise<FileVerifyReport> {
  if (cp) verifyCheckpointSignature(cp);
  const report: FileVerifyReport = { ok: true, events: 0, firstSeq: null, lastSeq: null, gaps: 0 };
  let prev: ExportedEvent | undefined;
  /** The first seq of the contiguous run the current event belongs to. */
  let runStart = 0;
  let line = 0;
  let cpFound = false;
  const stream = createReadStream(path, { encoding: 'utf8' });
  const opened = new Promise<void>((resolve, reject) => {
    stream.once('open', () => resolve());
    stream.once('error', (err: NodeJS.ErrnoException) => reject(new SikkerKeyError('SK_ERR_AUDIT_EXPORT', `cannot read the export file ${path} (${err.code ?? 'error'})`)));
  });
  await opened;
  const fail = (seq: number | null, reason: string): FileVerifyReport => {
    stream.destroy();
    return { ...report, ok: false, firstBad: { line, seq, reason } };
  };
  for await (const text of createInterface({ input: stream, crlfDelay: Infinity })) {
    line += 1;
    if (text.trim() === '') continue;
    const e = parseLine(text);
    if (typeof e === 'string') return fail(null, e);
    const content = {
      seq: e.seq, id: e.id, at: e.at, actorKind: e.actorKind, actorId: e.actorId, action: e.action, projectId: e.projectId,
      target: e.target, outcome: e.outcome, sourceIp: e.sourceIp, details: e.details,
      // A name the listing looked up (event older than 0014) is not part of what was hashed.
      actorName: e.actorNameRecorded === false ? null : (e.actorName ?? null),
    };
    if (chainHash(e.prevHash, canonicalEvent(content)) !== e.hash) return fail(e.seq, 'the event\'s content does not match its hash (edited)');
    if (prev) {
      if (e.seq <= prev.seq) return fail(e.seq, `event ${e.seq} follows event ${prev.seq}: lines are out of order or repeated (export oldest first, without --reverse)`);
      if (e.seq === prev.seq + 1) {
        if (e.prevHash !== prev.hash) return fail(e.seq, 'prevHash does not match the previous line\'s hash (a line was replaced, inserted or dropped)');
      } else {
        report.gaps += 1;
        runStart = e.seq;
      }
    } else {
      report.firstSeq = e.seq;
      runStart = e.seq;
    }
    if (cp && e.seq === cp.seq) {
      if (e.hash !== cp.hash || e.at !== cp.at) return fail(e.seq, `event ${e.seq} does not have the checkpoint's hash and time: the history up to it was rewritten`);
      cpFound = true;
      report.provenFrom = runStart;
    }
    report.events += 1;
    report.lastSeq = e.seq;
    prev = e;
  }
  if (cp) {
    report.checkpoint = { seq: cp.seq, ok: cpFound };
    if (!cpFound) {
      return { ...report, ok: false, firstBad: { line, seq: cp.seq, reason: `the checkpoint's event ${cp.seq} is not in the file (it holds ${report.firstSeq ?? '-'}..${report.lastSeq ?? '-'}): take the checkpoint before the export, or export through it` } };
    }
  }
  return report;
}
