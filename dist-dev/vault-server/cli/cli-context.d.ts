import type { Command } from 'commander';
import { VaultClient } from '../../protocol/client.js';
export interface GlobalOpts {
    url?: string;
    keyFile?: string;
    json?: boolean;
}
/** --url, --key-file, --json wherever they were given on the line (they belong to the program). */
export declare function globals(cmd: Command): GlobalOpts;
/** The signed client for the operator: --url/--key-file, else SIKKERKEY_URL/SIKKERKEY_KEY_FILE. */
export declare function clientFor(cmd: Command): VaultClient;
export declare function out(cmd: Command, value: unknown, human: () => string): void;
