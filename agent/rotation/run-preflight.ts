import type { Logger } from 'pino';
import { isSikkerKeyError } from '../../protocol/errors.js';
import type { ClaimResponse, PreflightResultBody, RotationStepResponse } from '../../protocol/api-types.js';
import type { CredentialProvider } from '../../providers/provider.js';

/**
 * A preflight job: checks, without changing anything, that the admin credential can alter every
 * user the policy will rotate, and reports the problems in words an operator can act on.
 */
export async function runPreflightJob(
  job: ClaimResponse,
  provider: CredentialProvider,
  vault: { preflight(id: string, body: PreflightResultBody): Promise<RotationStepResponse> },
  log: Logger,
): Promise<'promoted' | 'failed'> {
  let result: { ok: boolean; problems: string[] };
  try {
    await provider.initialize({ admin: job.admin, target: job.target });
    result = provider.preflight
      ? await provider.preflight({ usernames: job.usernames, strategy: job.strategy })
      : { ok: false, problems: [`the ${job.engine} provider has no preflight check`] };
  } catch (err) {
    const code = isSikkerKeyError(err) ? err.code : 'SK_ERR_PROVIDER_FAILED';
    result = { ok: false, problems: [`${code}: ${err instanceof Error ? err.message : String(err)}`] };
  }
  const res = await vault.preflight(job.id, { fence: job.fence, ok: result.ok, problems: result.problems });
  log.info({ rotationId: job.id, secret: `${job.project}/${job.secret}`, ok: result.ok, problems: result.problems }, 'preflight finished');
  return res.state === 'promoted' ? 'promoted' : 'failed';
}
