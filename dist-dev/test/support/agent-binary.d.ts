/** The repository root (tests run from dist/test/support). */
export declare const REPO_ROOT: string;
export declare const AGENT_BINARY: string;
/** A build took 5–25 s when measured; this bound only decides how long a hung build takes to fail. */
export declare const BUILD_TIMEOUT_MS = 300000;
/**
 * The `{ timeout }` for a `before` hook that calls agentBinary(): at worst it waits out another
 * process's build (which failed) and then builds itself, plus a minute for whatever else the hook
 * starts. Only a hung build comes near it.
 */
export declare const AGENT_BINARY_HOOK_TIMEOUT_MS: number;
/** True when dist/bin/sikkerkey-agent is missing or older than one of its inputs. */
export declare function agentBinaryIsStale(): boolean;
export interface BuildReport {
    path: string;
    bytes: number;
    bundleBytes: number;
    buildMs: number;
    version: string;
}
/** The executable's path, built first when stale; `build` is the build's report when this call built it. */
export declare function agentBinary(): Promise<{
    path: string;
    build: BuildReport | undefined;
}>;
