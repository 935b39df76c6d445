/** The agent's configuration, validated once and frozen (`sikkerkey-agent run --config FILE`). */
export interface AgentConfig {
    readonly vaultUrl: string;
    readonly keyFile: string;
    readonly health: {
        readonly listen: string;
    };
    /** Rotations worked on at once. */
    readonly concurrency: number;
    readonly log: {
        readonly level: string;
    };
    readonly caFile: string | undefined;
    readonly pinSha256: string | undefined;
    /** Seconds one long-poll waits for work (1–60; the setting is a duration: 30, 30s, 1m). */
    readonly pollWaitSeconds: number;
}
/**
 * Loads and validates the agent configuration. Precedence: `SIKKERKEY_AGENT_*` variables, then the
 * file, then the generic `SIKKERKEY_URL` (for `vaultUrl`) and defaults.
 */
export declare function loadAgentConfig(file: string | undefined, env?: NodeJS.ProcessEnv): AgentConfig;
