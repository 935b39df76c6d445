/**
 * Fault injection for the crash tests (test/fault/ and test/e2e/): when SIKKERKEY_FAULT_PAUSE_AT
 * names a step, the process announces `fault point reached: <step>` on stderr and waits there
 * until it gets SIGUSR2 (or is killed), so a test can SIGKILL it at exactly that step, or freeze
 * it there and let it go on later. Unset (always, in production), a fault point costs one string
 * comparison.
 */
const pauseAt = process.env.SIKKERKEY_FAULT_PAUSE_AT;

export type FaultPoint = 'after-claim' | 'after-update' | 'after-applied' | 'after-verify' | 'after-confirm' | 'vault-after-confirm-commit' | 'vault-after-create';

export async function faultPoint(name: FaultPoint): Promise<void> {
  if (pauseAt !== name) return;
  process.stderr.write(`fault point reached: ${name}\n`);
  await new Promise<void>((resolve) => process.once('SIGUSR2', () => resolve()));
  process.stderr.write(`fault point released: ${name}\n`);
}
