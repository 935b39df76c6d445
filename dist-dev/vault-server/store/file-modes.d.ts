/** The start-up warning's stable message (one log line per file, with `file` and `mode`). */
export declare const PERMISSIVE_FILE_WARNING = "a vault file is readable by group or others: chmod 600 it (on Kubernetes, set the secret volume's defaultMode: 0400)";
/** The files among `files` whose mode lets group or others read them (missing files are skipped). */
export declare function permissiveVaultFiles(files: readonly string[]): Array<{
    file: string;
    mode: string;
}>;
/** Runs `fn` with the process umask set to 077 (files it creates are 0600), then restores it. */
export declare function withPrivateUmask<T>(fn: () => T): T;
