/**
 * The MongoDB secret's fields, validated once and frozen, and the `MongoClient` options built
 * from them. The password never enters the connection string: it travels in `auth` only.
 *
 * Fields: host, port (27017), username, password, authSource (else database, else "admin"),
 * tls ("disable" | "require" | "verify-full", default "disable" like MongoDB itself), caFile.
 * TLS modes are those of every provider (tlsOptions() in ../provider-config.ts, libpq's meanings):
 * "require" encrypts and, when a caFile is given, checks the certificate chain against it but not
 * the host name (without caFile it checks nothing); "verify-full" checks chain and host name
 * (against caFile, else Node's default CAs).
 *
 * @example
 *   const admin = readMongoEndpoint(req.admin, 'admin');
 *   const { url, options } = mongoClientOptions(admin, { username: admin.username, password: admin.password }, {
 *     ca: await readCaFile(admin, { secret: 'admin', engine: 'MongoDB' }), serverSelectionTimeoutMS: 5000,
 *   });
 *   const client = new MongoClient(url, options);
 */
import type { MongoClientOptions } from 'mongodb';
import type { Endpoint } from '../provider-config.js';
import type { DatabaseSecret } from '../provider.js';
export declare const MONGODB_DEFAULT_PORT = 27017;
export declare const ENGINE_NAME = "MongoDB";
export interface MongoEndpoint extends Endpoint {
    /** The database the user is defined on (where `updateUser` runs and SCRAM authenticates). */
    readonly authSource: string;
}
export declare function readMongoEndpoint(secret: DatabaseSecret, which: 'admin' | 'target'): MongoEndpoint;
export interface ClientTuning {
    /** PEM text of caFile, already read. */
    ca: string | undefined;
    serverSelectionTimeoutMS: number;
    connectTimeoutMS?: number;
    /** A command whose reply does not come within this many ms fails instead of hanging. */
    socketTimeoutMS: number;
    appName?: string;
}
/** `mongodb://host:port/` plus options; only host and port are in the string. */
export declare function mongoClientOptions(endpoint: MongoEndpoint, credential: {
    username: string;
    password: string;
}, tuning: ClientTuning): {
    url: string;
    options: MongoClientOptions;
};
