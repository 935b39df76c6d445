import type { Logger } from 'pino';
import type { RetireJob } from '../../protocol/api-types.js';
import type { CredentialProvider } from '../../providers/provider.js';
import { type JobOptions, type JobOutcome, type JobVault } from './run-job.js';
/**
 * A `retire` job (`dual`): once the grace period after a promotion has passed, remove the old
 * password that was kept beside the new one, by carrying out what `decideRetire` says: prove the
 * live credential, remove (Redis) or discard (MySQL 8) the old one, prove live again, confirm.
 * A failure leaves at least the live password working, and the vault retries with backoff.
 */
export declare function runRetireJob(job: RetireJob, provider: CredentialProvider, vault: JobVault, log: Logger, opts?: JobOptions): Promise<JobOutcome>;
