/**
 * Fault injection for the crash tests (test/fault/ and test/e2e/): when SIKKERKEY_FAULT_PAUSE_AT
 * names a step, the process announces `fault point reached: <step>` on stderr and waits there
 * until it gets SIGUSR2 (or is killed), so a test can SIGKILL it at exactly that step, or freeze
 * it there and let it go on later. Unset (always, in production), a fault point costs one string
 * comparison and no signal handler is installed.
 */
const pauseAt = process.env.SIKKERKEY_FAULT_PAUSE_AT;

export type FaultPoint = 'after-claim' | 'after-update' | 'after-applied' | 'after-verify' | 'after-confirm' | 'vault-after-confirm-commit' | 'vault-after-create' | 'vault-after-claim-commit'
  | 'rekey-after-open' | 'rekey-before-commit' | 'rekey-after-commit'
  /** The vault committed a lease's intent (row + create job) / a lease job's claim, and has not answered yet. */
  | 'vault-after-lease-intent' | 'vault-after-lease-claim'
  /** The agent claimed a lease job / created the login / proved it logs in, and has not confirmed yet. */
  | 'agent-lease-after-claim' | 'agent-lease-after-create' | 'agent-lease-after-verify';

let released = false;
const waiting: Array<() => void> = [];
if (pauseAt) {
  // Installed once, at start-up: a SIGUSR2 that arrives while the process is stopped (SIGSTOP)
  // and is handled only after SIGCONT must release the pause, never kill the process by default.
  process.on('SIGUSR2', () => {
    released = true;
    waiting.splice(0).forEach((resume) => resume());
  });
}

export async function faultPoint(name: FaultPoint): Promise<void> {
  if (pauseAt !== name || released) return;
  process.stderr.write(`fault point reached: ${name}\n`);
  await new Promise<void>((resolve) => waiting.push(resolve));
  process.stderr.write(`fault point released: ${name}\n`);
}
