/** What mongod stores per SCRAM mechanism (`credentials["SCRAM-SHA-256"]`), all base64. */
export interface ScramCredential {
    iterationCount: number;
    salt: string;
    storedKey: string;
    serverKey: string;
}
/** mongod's default `scramSHA256IterationCount`. */
export declare const DEFAULT_SCRAM_SHA256_ITERATIONS = 15000;
/**
 * SASLprep as mongod applies it to a SCRAM-SHA-256 password. Throws on prohibited characters,
 * which the caller turns into an error reply.
 */
export declare function prepPassword(password: string): string;
/** `salt` is for known-answer tests (RFC 7677's example); normally 28 random bytes. */
export declare function makeScramSha256Credential(password: string, iterationCount?: number, salt?: Buffer): Promise<ScramCredential>;
/** mongod's decodeSCRAMUsername: replace-all "=2C" then "=3D". */
export declare function decodeScramUsername(encoded: string): string;
export type ScramStep = {
    ok: true;
    payload: Buffer;
    username: string;
    done: boolean;
} | {
    ok: false;
    reason: string;
};
/**
 * One SCRAM-SHA-256 conversation. Payloads are handled as bytes ("latin1" strings internally) so
 * the AuthMessage is exactly what the client hashed, whatever UTF-8 its username holds.
 */
export declare class ScramSha256Conversation {
    private readonly lookup;
    private readonly serverNonce;
    private step;
    private username;
    private gs2Header;
    private nonce;
    private authMessage;
    private credential;
    /** `serverNonce` is for known-answer tests; mongod uses 24 random bytes, base64. */
    constructor(lookup: (username: string) => ScramCredential | undefined, serverNonce?: () => string);
    get principal(): string;
    /** client-first-message → server-first-message. */
    start(clientFirst: Buffer): ScramStep;
    /** client-final-message → server-final-message ("v=ServerSignature"), after checking the proof. */
    finish(clientFinal: Buffer): ScramStep;
}
