/**
 * Generates rotated credentials. Only the vault calls this (a provider never generates a
 * password: Vault dbplugin v5's lesson). The alphabet avoids characters that break connection
 * strings and shell quoting (`@ : / ? # % ' " \` and space), so an application that builds a URL
 * from the value keeps working; strength comes from length instead.
 */
export interface PasswordPolicy {
    /** 16–128 characters; default 32 (≈190 bits with the default alphabet). */
    length: number;
    /** Adds `-_.~` to letters and digits. */
    symbols: boolean;
}
export declare const DEFAULT_PASSWORD_POLICY: PasswordPolicy;
export declare function parsePasswordPolicy(raw: unknown): PasswordPolicy;
/** A CSPRNG password with at least one letter and one digit (some engines' validators insist). */
export declare function generatePassword(policy?: PasswordPolicy): string;
