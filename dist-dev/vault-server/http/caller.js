import { SikkerKeyError } from '../../protocol/errors.js';
/** The verified caller of an authenticated route (the auth hook guarantees one exists). */
export function callerOf(req) {
    if (!req.caller)
        throw new SikkerKeyError('SK_ERR_SIGNATURE_MISSING', 'this route needs a signed request');
    return req.caller;
}
//# sourceMappingURL=caller.js.map