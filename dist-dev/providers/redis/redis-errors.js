/**
 * Redis errors → SikkerKeyError. Replies are recognised by their prefix (WRONGPASS, NOAUTH,
 * NOPERM, ERR …), then network and TLS failures.
 *
 * Redis echoes a failing ACL SETUSER rule in its error ("Error in ACL SETUSER modifier '…'"):
 * the provider sends password hashes, not passwords, and every message is redacted anyway.
 *
 * @example
 *   throw redisError(err, { step: 'update', endpoint: '10.0.0.7:6379', username: 'app', admin: 'sk_admin' });
 */
import { SikkerKeyError } from '../../protocol/errors.js';
import { classifyNetworkError, firstLine, messageOf, networkError, quoteName, scrubCause, stringProp } from '../provider-errors.js';
import { redact } from '../sanitize.js';
const REPLY = /^(WRONGPASS|NOAUTH|NOPERM|ERR|WRONGTYPE|LOADING|BUSY|READONLY|MASTERDOWN|MISCONF|NOSCRIPT|OOM|NOREPLICAS|CLUSTERDOWN|TRYAGAIN|MOVED|ASK)\b/;
export function isServerReply(err) {
    return err instanceof Error && stringProp(err, 'code') === undefined && REPLY.test(err.message);
}
export function redisError(err, ctx) {
    if (err instanceof SikkerKeyError)
        return err;
    const secret = ctx.step === 'login' ? 'target' : 'admin';
    const at = `Redis at ${ctx.endpoint}`;
    if (!isServerReply(err)) {
        const failure = classifyNetworkError(err);
        if (failure !== undefined)
            return networkError(failure, { engine: 'Redis', endpoint: ctx.endpoint, secret }, err);
        return make('SK_ERR_PROVIDER_FAILED', `${at}: ${firstLine(messageOf(err))}`, err, ctx);
    }
    const said = firstLine(messageOf(err));
    const user = quoteName(ctx.username);
    const admin = quoteName(ctx.admin);
    if (/^(WRONGPASS|NOAUTH)\b/.test(said) || /AUTH .*called without any password configured/i.test(said)) {
        return ctx.step === 'login'
            ? make('SK_ERR_PROVIDER_AUTH_FAILED', `${at} refused the login of user ${user} with the credential being verified: ${said}`, err, ctx)
            : make('SK_ERR_PROVIDER_AUTH_FAILED', `${at} refused the admin login of ${admin}: ${said}; check the admin secret's username and password`, err, ctx);
    }
    if (said.startsWith('NOPERM')) {
        return make('SK_ERR_PROVIDER_PRIVILEGE', `admin ${admin} may not do this on ${at}: ${said}; grant it the ACL commands, e.g. ACL SETUSER ${ctx.admin} +acl +config|get`, err, ctx);
    }
    if (/^ERR .*unknown (sub)?command/i.test(said)) {
        return make('SK_ERR_PROVIDER_FAILED', `${at} does not know a command rotation needs (ACL needs Redis 6 or later): ${said}`, err, ctx);
    }
    if (/^(LOADING|BUSY|MASTERDOWN|TRYAGAIN|CLUSTERDOWN)\b/.test(said)) {
        return make('SK_ERR_PROVIDER_CONNECT', `${at} cannot serve requests now: ${said}`, err, ctx);
    }
    if (said.startsWith('READONLY')) {
        return make('SK_ERR_PROVIDER_FAILED', `${at} is a read-only replica: ${said}; point the admin secret at the primary`, err, ctx);
    }
    if (/saving ACLs|ACL SAVE/i.test(said)) {
        return make('SK_ERR_PROVIDER_FAILED', `${at} changed the user but could not write its aclfile: ${said}; check the file's permissions and disk`, err, ctx);
    }
    return make('SK_ERR_PROVIDER_FAILED', `${at} answered an error we do not map (${ctx.step}, user ${user}): ${said}`, err, ctx);
}
function make(code, message, cause, ctx) {
    const values = [...(ctx.secrets ?? [])];
    const clean = (text) => redact(text, values);
    return new SikkerKeyError(code, clean(message), { cause: scrubCause(cause, clean) });
}
//# sourceMappingURL=redis-errors.js.map