/**
 * Types on the wire between the vault, the agent and applications. The vault, the agent and the
 * providers all take these names from here, so they cannot drift apart.
 */
export { ENGINES, STRATEGIES } from './engines.js';
export const ROTATION_STATES = ['pending', 'claimed', 'applied', 'promoted', 'retired', 'preflight_passed', 'failed', 'stuck', 'cancelled'];
/** The state a job of each kind ends in when it succeeded. */
export const SUCCEEDED_STATE = { rotate: 'promoted', retire: 'retired', preflight: 'preflight_passed' };
//# sourceMappingURL=api-types.js.map