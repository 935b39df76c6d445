/**
 * What goes after `ALTER ROLE … WITH PASSWORD`: the password's verifier, computed here, rather
 * than the password itself — what psql's `\password` does (libpq `PQencryptPasswordConn`).
 * PostgreSQL's manual warns that a cleartext password in ALTER ROLE "might also be logged in …
 * the server log": with `log_statement = 'ddl'`, an audit extension or `pg_stat_statements`, the
 * server would keep every rotated password in plain text. A verifier in a log is no login.
 *
 * PostgreSQL stores a literal that already has a verifier's shape as is, and computes the same one
 * from a cleartext password, so logins behave exactly as if the server had hashed it.
 *
 * @example
 *   await passwordLiteral({ password, role: 'app', encryption: 'scram-sha-256', iterations: 4096 })
 *   // → 'SCRAM-SHA-256$4096:<salt>$<StoredKey>:<ServerKey>'
 */
import { createHash, createHmac, pbkdf2, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
const pbkdf2Async = promisify(pbkdf2);
// Printable ASCII is unchanged by SASLprep (RFC 4013), so the verifier computed from its bytes is
// the one the server would compute. Anything else is left to the server, which applies its own
// SASLprep; those passwords (never produced by the vault's generator) travel in clear text.
const SASLPREP_IDENTITY = /^[\x20-\x7e]+$/;
/** The verifier to store for `password`, or the password itself when only the server can hash it. */
export async function passwordLiteral(req) {
    if (req.encryption === 'scram-sha-256' && SASLPREP_IDENTITY.test(req.password)) {
        return scramSha256Verifier(req.password, req.iterations);
    }
    if (req.encryption === 'md5') {
        // md5 verifiers are over the raw bytes (no SASLprep): 'md5' || md5(password || role name)
        return `md5${createHash('md5').update(req.password + req.role, 'utf8').digest('hex')}`;
    }
    return req.password;
}
/** RFC 5802/7677 SCRAM-SHA-256 stored verifier in PostgreSQL's text form. */
export async function scramSha256Verifier(password, iterations, salt = randomBytes(16)) {
    // off the main thread: a high scram_iterations must not stall the agent's heartbeats
    const salted = await pbkdf2Async(Buffer.from(password, 'utf8'), salt, iterations, 32, 'sha256');
    const clientKey = createHmac('sha256', salted).update('Client Key').digest();
    const storedKey = createHash('sha256').update(clientKey).digest();
    const serverKey = createHmac('sha256', salted).update('Server Key').digest();
    return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}
//# sourceMappingURL=postgres-password.js.map