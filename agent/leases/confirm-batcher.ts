/**
 * The agent's lease-job confirms, sent together. A confirm goes at once when none is in flight;
 * those that finish while one is in flight wait for it and then go as one request
 * (`POST /v1/agent/lease-jobs/confirm`, at most LEASE_JOB_BATCH_MAX). No timer: an idle agent adds
 * no latency, a busy one sends one signed request (and the vault one transaction) for many jobs.
 *
 * Each caller learns its own job's outcome: resolved when the vault confirmed it, rejected with
 * the vault's SK_ERR code when it refused that job (a stale fence, say), and rejected with the
 * request's error when the request failed — then the vault offers the jobs again after their claim
 * lapses, as it does for a single confirm that was lost.
 *
 * @example
 *   const confirms = new ConfirmBatcher((jobs) => post('/v1/agent/lease-jobs/confirm', { jobs }));
 *   await confirms.confirm(claim.id, claim.fence);
 */
import type { LeaseJobConfirmBatch } from '../../protocol/api-types.js';
import { LEASE_JOB_BATCH_MAX } from '../../protocol/api-types.js';
import { SikkerKeyError, isErrorCode } from '../../protocol/errors.js';

interface Waiting {
  id: string;
  fence: number;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class ConfirmBatcher {
  private queue: Waiting[] = [];
  private inFlight = false;

  constructor(private readonly send: (jobs: Array<{ id: string; fence: number }>) => Promise<LeaseJobConfirmBatch>) {}

  confirm(id: string, fence: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ id, fence, resolve, reject });
      this.flush();
    });
  }

  private flush(): void {
    if (this.inFlight || this.queue.length === 0) return;
    const batch = this.queue.splice(0, LEASE_JOB_BATCH_MAX);
    this.inFlight = true;
    this.send(batch.map(({ id, fence }) => ({ id, fence })))
      .then((answer) => settle(batch, answer), (err: unknown) => { for (const w of batch) w.reject(err); })
      .finally(() => {
        this.inFlight = false;
        this.flush();
      });
  }
}

function settle(batch: readonly Waiting[], answer: LeaseJobConfirmBatch): void {
  const confirmed = new Set(answer.confirmed);
  const refused = new Map(answer.refused.map((r) => [r.id, r]));
  for (const w of batch) {
    const r = refused.get(w.id);
    if (r !== undefined) w.reject(new SikkerKeyError(isErrorCode(r.code) ? r.code : 'SK_ERR_RESPONSE', r.message));
    else if (confirmed.has(w.id)) w.resolve();
    else w.reject(new SikkerKeyError('SK_ERR_RESPONSE', 'the vault answered the confirm without this job'));
  }
}
