import type { Command } from 'commander';
/** `sikkerkey rotation …` (DESIGN §11). */
export declare function rotationCommands(program: Command): void;
