export interface PasswordLiteralRequest {
    password: string;
    role: string;
    /** The server's `password_encryption`. */
    encryption: string;
    /** The server's `scram_iterations` (PostgreSQL 16+), else 4096. */
    iterations: number;
}
/** The verifier to store for `password`, or the password itself when only the server can hash it. */
export declare function passwordLiteral(req: PasswordLiteralRequest): Promise<string>;
/** RFC 5802/7677 SCRAM-SHA-256 stored verifier in PostgreSQL's text form. */
export declare function scramSha256Verifier(password: string, iterations: number, salt?: Buffer): Promise<string>;
