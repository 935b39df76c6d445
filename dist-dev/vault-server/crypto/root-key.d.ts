export declare const ROOT_KEY_ENV = "SIKKERKEY_ROOT_KEY";
/** How to supply the key, for messages: every way, in the order they are tried. */
export declare const ROOT_KEY_SOURCES_HELP = "--root-key-file FILE (base64 text; a systemd credential works), --root-key-stdin, or the SIKKERKEY_ROOT_KEY environment variable";
export interface RootKeySource {
    /** Path of a file holding the key as base64 text. Wins over everything else. */
    file?: string;
    /** Read the key from standard input (until end of input). */
    stdin?: boolean;
    /** Where to look for SIKKERKEY_ROOT_KEY; default `process.env`. */
    env?: NodeJS.ProcessEnv;
    /** What `stdin` reads; default `process.stdin`. Tests pass their own stream. */
    input?: AsyncIterable<Buffer | string>;
}
/** A new random root key (what `sikkerkey-vault init` prints once). */
export declare function generateRootKey(): Buffer;
/** Base64 of exactly 32 bytes, surrounding whitespace ignored; anything else is SK_ERR_ROOT_KEY_INVALID. */
export declare function parseRootKey(text: string): Buffer;
export declare function loadRootKey(src: RootKeySource): Promise<Buffer>;
