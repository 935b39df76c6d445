import type { Command } from 'commander';
/**
 * The output contract every SikkerKey command follows (DESIGN §11): with `--json`, one JSON
 * document on stdout and nothing else there; errors on stderr as `error SK_ERR_…: message` with a
 * non-zero exit code.
 */
export declare function printResult(json: boolean, value: unknown, human: () => string): void;
export declare function printError(err: unknown): number;
/** Runs a commander program with our error contract; never leaves an unhandled rejection. */
export declare function runCli(program: Command, argv?: string[]): Promise<void>;
/** Collects a repeatable option into an array. */
export declare function collect(value: string, previous?: string[]): string[];
