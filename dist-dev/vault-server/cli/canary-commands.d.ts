import type { Command } from 'commander';
/**
 * `sikkerkey canary …` (DESIGN §11): decoy secrets whose first read by a machine locks the project.
 *
 * @example
 *   sikkerkey canary create shop db-backup-admin --value-stdin --lock-machine-projects
 *   sikkerkey canary list shop
 */
export declare function canaryCommands(program: Command): void;
