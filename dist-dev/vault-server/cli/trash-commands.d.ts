import type { Command } from 'commander';
/**
 * Deleting things (README "Deleting things"): `secret delete|restore|rename|describe`,
 * `project delete|restore|rename`, `canary delete`, `trash list|purge`.
 *
 * @example
 *   sikkerkey secret delete shop db
 *   sikkerkey trash list
 *   sikkerkey secret restore shop db
 */
export declare function trashCommands(program: Command): void;
