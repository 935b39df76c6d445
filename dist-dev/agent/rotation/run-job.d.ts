import type { Logger } from 'pino';
import { SikkerKeyError } from '../../protocol/errors.js';
import type { FailBody, RotateJob, RotationStepResponse } from '../../protocol/api-types.js';
import type { CredentialProvider, InitializeResponse } from '../../providers/provider.js';
import { type ChangeResult, type Probe } from './decide.js';
/** The vault calls a job makes (narrow, so tests and the runner agree on exactly these). */
export interface JobVault {
    heartbeat(id: string, fence: number): Promise<{
        leaseSeconds: number;
    }>;
    applied(id: string, fence: number): Promise<RotationStepResponse>;
    confirm(id: string, fence: number): Promise<RotationStepResponse>;
    fail(id: string, body: FailBody): Promise<RotationStepResponse>;
}
export type JobOutcome = 'promoted' | 'retired' | 'preflight_passed' | 'failed' | 'retry' | 'stuck' | 'fenced' | 'lease-lost';
export type Sleep = (ms: number) => Promise<void>;
export declare const defaultSleep: Sleep;
export interface JobOptions {
    /** A provider kept from the previous job of the same admin and endpoint: what its initialize said. */
    initialized?: InitializeResponse;
    /** Waits between retries (tests make it instant). */
    sleep?: Sleep;
}
/** The provider's answer as a SikkerKeyError (anything else becomes SK_ERR_PROVIDER_FAILED). */
export declare function asSkError(err: unknown): SikkerKeyError;
/** How a change that threw is recorded for decide(). */
export declare function changeResult(err: SikkerKeyError): ChangeResult;
/** A fresh login with exactly this credential: works, refused by the database, or unknown (unreachable…). */
export declare function probe(provider: CredentialProvider, username: string, password: string): Promise<Probe>;
/** Retries a report until the vault answers (a lost answer is answered the same again); fenced ends it. */
export declare function report<T>(what: string, log: Logger, call: () => Promise<T>, sleep?: Sleep, attempts?: number): Promise<T>;
/**
 * Runs one claimed `rotate` job (DESIGN §6) by carrying out what `decideRotate` says, one action at
 * a time, until it promotes or reports a failure: reconcile (when an earlier claim may have
 * applied) → apply → report applied → verify with a fresh login → confirm; on a failed verify the
 * engine's undo plan, a proof of the live credential, and `fail`. Once the lease is lost the
 * database is not touched again.
 */
export declare function runRotateJob(job: RotateJob, provider: CredentialProvider, vault: JobVault, log: Logger, opts?: JobOptions): Promise<JobOutcome>;
