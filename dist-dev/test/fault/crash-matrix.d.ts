import type { EngineFixture, FixtureEngine } from '../support/engine-fixtures.js';
import type { RotationHarness } from '../support/rotation-harness.js';
import { VaultClient } from '../../protocol/client.js';
import type { Strategy } from '../../protocol/engines.js';
export declare const AGENT_POINTS: readonly ["after-claim", "after-update", "after-applied", "after-verify", "after-confirm"];
export declare const VAULT_POINTS: readonly ["vault-after-create", "vault-after-claim-commit", "vault-after-confirm-commit"];
export interface Combo {
    engine: FixtureEngine;
    strategy: Strategy;
}
/** From the engine table: every strategy each fixture's flavour runs. */
export declare const ALL_COMBOS: Combo[];
export interface CaseResult {
    combo: Combo;
    point: string;
    outcome: 'recovered' | 'stuck' | 'lost' | 'error';
    state: string;
    detail?: string;
    /** With `serve --workers N`, a vault point's crash: the worker pids SIGKILLed with the primary. */
    killedWorkers?: number[];
}
/** A harness for one engine and strategy: users made, policy set, an operator client. */
export interface ComboRig {
    combo: Combo;
    fx: EngineFixture;
    h: RotationHarness;
    operator: VaultClient;
    close(): Promise<void>;
}
export declare function startRig(combo: Combo, opts?: {
    grace?: string;
    serveArgs?: string[];
}): Promise<ComboRig>;
/** One case: crash at `point`, recover, and judge. */
export declare function runCase(rig: ComboRig, point: string): Promise<CaseResult>;
export declare function summaryLine(results: CaseResult[]): string;
/** `serveArgs`: more `sikkerkey-vault serve` arguments for every start of the vault, e.g. `['--workers', '2']`. */
export declare function runMatrix(combos: Combo[], points: readonly string[], log?: (line: string) => void, opts?: {
    serveArgs?: string[];
}): Promise<CaseResult[]>;
