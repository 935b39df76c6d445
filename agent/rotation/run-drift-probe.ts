import type { DriftProbe, DriftResultBody } from '../../protocol/api-types.js';
import type { CredentialProvider, InitializeResponse } from '../../providers/provider.js';
import { asSkError } from './run-job.js';

/** What a drift probe found: the body the vault takes, and what initialize said (kept with a provider for reuse). */
export interface DriftProbeOutcome {
  body: DriftResultBody;
  /** `refused`: the database said no to the live credential (drift); `unknown`: it could not tell. */
  result: 'ok' | 'refused' | 'unknown';
  init: InitializeResponse | undefined;
}

/**
 * A drift probe (vault-server/modules/rotations/rotation-drift.ts): one fresh login with the live
 * credential, changing nothing. The provider is initialized first (with the admin credential, as
 * for a rotation) unless it comes ready from the pool; an admin login that fails does not stop the
 * probe, since `verify` needs only the target side (providers/provider.ts). A refused login is
 * SK_ERR_PROVIDER_AUTH_FAILED; the provider's messages are already sanitized (withSanitizer).
 */
export async function runDriftProbe(probe: DriftProbe, provider: CredentialProvider, initialized?: InitializeResponse): Promise<DriftProbeOutcome> {
  let init = initialized;
  if (init === undefined) {
    try {
      init = await provider.initialize({ admin: probe.admin, target: probe.target });
    } catch {
      // Not the probe's question: verify below answers whether the live credential logs in.
    }
  }
  try {
    await provider.verify({ username: probe.target['username'] ?? '', password: probe.target['password'] ?? '' });
    return { body: { version: probe.version, ok: true }, result: 'ok', init };
  } catch (err) {
    const e = asSkError(err);
    return {
      body: { version: probe.version, ok: false, code: e.code, message: e.message },
      result: e.code === 'SK_ERR_PROVIDER_AUTH_FAILED' ? 'refused' : 'unknown',
      init,
    };
  }
}
