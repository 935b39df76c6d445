import { SikkerKeyError } from '../../protocol/errors.js';
import { field, readEndpoint, tlsOptions } from '../provider-config.js';
export const MONGODB_DEFAULT_PORT = 27017;
export const ENGINE_NAME = 'MongoDB';
// Host names and IPv4 (letters, digits, dot, dash, underscore) or an IPv6 literal. Anything else
// (",", "/", "?", "@", spaces) would change the meaning of the connection string built from it.
const HOST_NAME = /^[A-Za-z0-9._-]+$/;
const IPV6_LITERAL = /^\[?[0-9A-Fa-f:.]+(%[A-Za-z0-9._-]+)?\]?$/;
// MongoDB database names may not contain these (docs: "Naming Restrictions").
const BAD_DB_CHARS = /[/\\. "$*<>:|?\0]/;
export function readMongoEndpoint(secret, which) {
    const base = readEndpoint(secret, {
        secret: which,
        engine: ENGINE_NAME,
        defaultPort: MONGODB_DEFAULT_PORT,
        passwordRequired: which === 'admin',
    });
    if (!HOST_NAME.test(base.host) && !(base.host.includes(':') && IPV6_LITERAL.test(base.host))) {
        throw new SikkerKeyError('SK_ERR_PROVIDER_CONFIG', `the ${ENGINE_NAME} ${which} secret has a "host" that is not a host name or IP address (got ${JSON.stringify(base.host)})`);
    }
    const authSource = field(secret, 'authSource') ?? base.database ?? 'admin';
    if (BAD_DB_CHARS.test(authSource) || authSource.length > 63) {
        throw new SikkerKeyError('SK_ERR_PROVIDER_CONFIG', `the ${ENGINE_NAME} ${which} secret has an "authSource" that is not a MongoDB database name (got ${JSON.stringify(authSource)})`);
    }
    return Object.freeze({ ...base, authSource });
}
/** `mongodb://host:port/` plus options; only host and port are in the string. */
export function mongoClientOptions(endpoint, credential, tuning) {
    const bare = endpoint.host.replace(/^\[|\]$/g, '');
    const host = bare.includes(':') ? `[${bare}]` : bare;
    const options = {
        auth: { username: credential.username, password: credential.password },
        authSource: endpoint.authSource,
        // One server, the one named: never follow a replica set's member list elsewhere.
        directConnection: true,
        serverSelectionTimeoutMS: tuning.serverSelectionTimeoutMS,
        connectTimeoutMS: tuning.connectTimeoutMS ?? tuning.serverSelectionTimeoutMS,
        socketTimeoutMS: tuning.socketTimeoutMS,
        // A credential change is not retried blindly: the caller decides (it is idempotent anyway).
        retryWrites: false,
        retryReads: false,
        maxPoolSize: 2,
        minPoolSize: 0,
        appName: tuning.appName ?? 'sikkerkey-agent',
        tls: endpoint.tls !== 'disable',
    };
    const tls = tlsOptions(endpoint, tuning.ca);
    if (tls !== undefined) {
        // The driver hands these Node options to tls.connect as they are (its LEGAL_TLS_SOCKET_OPTIONS,
        // plus `host`, and `servername` for a host name) — what its tlsAllowInvalidCertificates and
        // tlsAllowInvalidHostnames would set, without a second spelling of the modes.
        if (tls.ca !== undefined)
            options.ca = tls.ca;
        if (tls.rejectUnauthorized !== undefined)
            options.rejectUnauthorized = tls.rejectUnauthorized;
        if (tls.checkServerIdentity !== undefined)
            options.checkServerIdentity = tls.checkServerIdentity;
        if (tls.servername !== undefined)
            options.servername = tls.servername;
    }
    return { url: `mongodb://${host}:${endpoint.port}/`, options };
}
//# sourceMappingURL=mongo-config.js.map