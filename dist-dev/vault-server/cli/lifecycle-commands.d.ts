import type { Command } from 'commander';
/**
 * `sikkerkey enroll-token …`, `sikkerkey bootstrap-token …` and the lifecycle verbs of
 * `sikkerkey machine …` (extend, history, revert-extension). DESIGN §7, docs/machine-lifecycle.md.
 */
export declare function lifecycleCommands(program: Command): void;
