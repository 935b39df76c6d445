/**
 * MongoWireTestServer — a TEST DOUBLE for MongoDB, not a database. It speaks enough of MongoDB's
 * wire protocol that the real `mongodb` driver cannot tell it from a standalone MongoDB 7.0 for
 * the commands SikkerKey's MongoDB provider uses. No MongoDB server can be installed on these
 * machines; DESIGN.md §10 uses a real one when MONGO_URL is set and this double otherwise.
 *
 * What it implements (behaviour taken from mongod's source where it matters, see the helpers):
 * - TCP (or TLS with a caller's key/cert) on 127.0.0.1, a free port by default.
 * - The legacy OP_QUERY handshake on `<db>.$cmd` answered with OP_REPLY; other commands over
 *   OP_QUERY are refused with 352 UnsupportedOpQueryCommand like MongoDB ≥ 6.0.
 * - OP_MSG both ways: kind-0 body, kind-1 document sequences, the CRC-32C checksum flag (a bad
 *   checksum closes the connection), moreToCome (no reply). Replies carry no checksum (the
 *   driver's reply parser does not expect one; mongod does not send one).
 * - hello / isMaster / ismaster (with `saslSupportedMechs` and speculative SCRAM), buildInfo,
 *   ping, endSessions, connectionStatus, saslStart, saslContinue, createUser, updateUser,
 *   dropUser, usersInfo, killAllSessionsByPattern (on admin; ends the sessions of the users it names by
 *   closing their connections, which is what a client sees of mongod killing its sessions). Anything else: 59 CommandNotFound, as mongod answers unknown commands.
 * - SCRAM-SHA-256 only (as a mongod started with authenticationMechanisms=SCRAM-SHA-256): every
 *   SASL failure is the one `{code: 18, "Authentication failed."}`, unknown user included.
 * - Authorization from built-in roles (see mongo-users.ts), with mongod's error messages.
 *
 * What it deliberately does not implement: data commands (find/insert/…), OP_COMPRESSED,
 * SCRAM-SHA-1, x.509/LDAP/OIDC, custom roles, authentication restrictions, `showCredentials`,
 * topologyVersion / streaming (awaitable) hello — so the driver's monitor polls —, replica sets,
 * sessions/transactions semantics beyond accepting `lsid`.
 *
 * @example
 *   const srv = await MongoWireTestServer.start({
 *     users: [{ db: 'admin', user: 'root', pwd: rootPwd, roles: [{ role: 'root', db: 'admin' }] }],
 *   });
 *   const client = new MongoClient(srv.url(), { auth: { username: 'root', password: rootPwd } });
 *   await client.db('admin').command({ ping: 1 });
 *   await client.close();
 *   await srv.stop();
 */
import net from 'node:net';
import tls from 'node:tls';
import { Binary, UUID } from 'bson';
import type { Document } from 'bson';
import {
  MSG_MORE_TO_COME,
  MessageFramer,
  OP_COMPRESSED,
  OP_MSG,
  OP_QUERY,
  WireProtocolError,
  encodeOpMsg,
  encodeOpReply,
  parseOpMsg,
  parseOpQuery,
} from './mongo-wire-protocol.js';
import type { WireMessage } from './mongo-wire-protocol.js';
import { DEFAULT_SCRAM_SHA256_ITERATIONS, ScramSha256Conversation, makeScramSha256Credential } from './mongo-scram.js';
import { MongoUserStore, isAuthorizedOnCluster, isAuthorizedOnDatabase, privilegesOf, roleExists } from './mongo-users.js';
import type { RoleRef, StoredUser } from './mongo-users.js';

/** MongoDB 7.0's wire version; its minimum is 0 as every mongod reports. */
export const WIRE_VERSION = { min: 0, max: 21 } as const;
export const SERVER_VERSION = '7.0.14';
const MAX_BSON_OBJECT_SIZE = 16 * 1024 * 1024;
const MAX_MESSAGE_SIZE_BYTES = 48_000_000;
const MAX_WRITE_BATCH_SIZE = 100_000;
const SCRAM_SHA_256 = 'SCRAM-SHA-256';

export interface MongoWireUserSeed {
  db: string;
  user: string;
  pwd: string;
  roles?: Array<RoleRef>;
}

export interface MongoWireTestServerOptions {
  users?: MongoWireUserSeed[];
  /** PEM key and certificate: the server then speaks TLS only (like `net.tls.mode: requireTLS`). */
  tls?: { key: string | Buffer; cert: string | Buffer };
  host?: string;
  port?: number;
  /** SCRAM-SHA-256 iteration count for stored credentials; mongod's default 15000, at least 4096. */
  iterations?: number;
  /** Answer `speculativeAuthenticate` in the handshake as MongoDB ≥ 4.4 does (default true). */
  speculativeAuthentication?: boolean;
}

/** A user as a test may inspect it: never a credential. */
export interface MongoWireUserView {
  db: string;
  user: string;
  roles: RoleRef[];
  mechanisms: string[];
  credentialWrites: number;
}

/** One received command, with `pwd` and SASL payloads replaced as mongod redacts them in logs. */
export interface MongoWireCommandRecord {
  connectionId: number;
  name: string;
  db: string;
  opCode: number;
  authenticatedAs: { user: string; db: string } | undefined;
  body: Document;
}

interface ConnectionState {
  id: number;
  socket: net.Socket;
  framer: MessageFramer;
  /** The first 16 bytes are held back until mongod's first-header check has run. */
  checkedFirstHeader: boolean;
  firstBytes: Buffer;
  sentClientMetadata: boolean;
  user: StoredUser | undefined;
  /** mongod keeps one SASL session per connection and always calls it conversationId 1. */
  conversations: Map<number, { conversation: ScramSha256Conversation; db: string; skipEmptyExchange: boolean; awaitingEmpty: boolean }>;
  queue: Promise<void>;
}

class CommandError extends Error {
  constructor(
    readonly code: number,
    readonly codeName: string,
    message: string,
  ) {
    super(message);
  }
}

const AUTH_FAILED = (): CommandError => new CommandError(18, 'AuthenticationFailed', 'Authentication failed.');

/** Commands mongod runs without authentication (requiresAuth() === false). */
const NO_AUTH_COMMANDS = new Set([
  'hello',
  'isMaster',
  'ismaster',
  'buildInfo',
  'buildinfo',
  'ping',
  'saslStart',
  'saslContinue',
  'endSessions',
  'connectionStatus',
]);
const AUTH_COMMANDS = new Set(['createUser', 'updateUser', 'dropUser', 'usersInfo', 'killAllSessionsByPattern']);
const HELLO_NAMES = new Set(['hello', 'isMaster', 'ismaster']);

/** IDL "generic arguments" every command accepts. */
const GENERIC_FIELDS = new Set([
  '$db',
  'lsid',
  '$clusterTime',
  'txnNumber',
  'autocommit',
  'startTransaction',
  'writeConcern',
  'readConcern',
  'comment',
  'maxTimeMS',
  '$readPreference',
  'apiVersion',
  'apiStrict',
  'apiDeprecationErrors',
  '$audit',
  '$client',
  'mayBypassWriteBlocking',
]);

const COMMAND_FIELDS: Record<string, Set<string>> = {
  createUser: new Set(['createUser', 'pwd', 'customData', 'roles', 'digestPassword', 'authenticationRestrictions', 'mechanisms']),
  updateUser: new Set(['updateUser', 'pwd', 'customData', 'roles', 'digestPassword', 'authenticationRestrictions', 'mechanisms']),
  dropUser: new Set(['dropUser']),
  usersInfo: new Set(['usersInfo', 'showPrivileges', 'showCredentials', 'showAuthenticationRestrictions', 'showCustomData', 'filter']),
  killAllSessionsByPattern: new Set(['killAllSessionsByPattern']),
};

export class MongoWireTestServer {
  readonly host: string;
  port = 0;
  readonly tls: boolean;

  private readonly store = new MongoUserStore();
  private readonly connections = new Set<ConnectionState>();
  private readonly log: MongoWireCommandRecord[] = [];
  private nextConnectionId = 1;
  private nextRequestId = 1;
  private readonly iterations: number;
  private readonly speculative: boolean;
  private readonly server: net.Server;
  private readonly stalled = new Set<string>();

  private constructor(options: MongoWireTestServerOptions) {
    this.host = options.host ?? '127.0.0.1';
    this.iterations = options.iterations ?? DEFAULT_SCRAM_SHA256_ITERATIONS;
    this.speculative = options.speculativeAuthentication ?? true;
    this.tls = options.tls !== undefined;
    if (options.tls) {
      const server = tls.createServer({ key: options.tls.key, cert: options.tls.cert });
      // A client that does not speak TLS (or rejects our certificate) fails the handshake: the
      // socket is closed, as mongod in requireTLS mode closes it.
      server.on('tlsClientError', (_err, socket) => socket.destroy());
      server.on('secureConnection', (socket) => this.accept(socket));
      this.server = server;
    } else {
      this.server = net.createServer((socket) => this.accept(socket));
    }
  }

  /** Starts listening and seeds the users (their credentials derived as createUser would). */
  static async start(options: MongoWireTestServerOptions = {}): Promise<MongoWireTestServer> {
    const srv = new MongoWireTestServer(options);
    for (const seed of options.users ?? []) {
      const roles = seed.roles ?? [];
      for (const r of roles) {
        if (!roleExists(r)) throw new Error(`MongoWireTestServer: no built-in role ${r.role}@${r.db}`);
      }
      const credential = await makeScramSha256Credential(seed.pwd, srv.iterations);
      const inserted = srv.store.insert({ db: seed.db, user: seed.user, roles, credentials: { [SCRAM_SHA_256]: credential } });
      if (!inserted) throw new Error(`MongoWireTestServer: duplicate seed user ${seed.user}@${seed.db}`);
    }
    await new Promise<void>((resolve, reject) => {
      srv.server.once('error', reject);
      srv.server.listen(options.port ?? 0, srv.host, () => {
        srv.server.off('error', reject);
        resolve();
      });
    });
    const address = srv.server.address();
    if (address === null || typeof address === 'string') throw new Error('MongoWireTestServer: no TCP address');
    srv.port = address.port;
    return srv;
  }

  /**
   * A connection string for tests that build their own MongoClient (`directConnection=true`).
   * With a user and password they are percent-encoded into it; prefer MongoClient's `auth` option.
   */
  url(user?: string, pwd?: string): string {
    const auth = user === undefined ? '' : `${encodeURIComponent(user)}${pwd === undefined ? '' : `:${encodeURIComponent(pwd)}`}@`;
    return `mongodb://${auth}${this.host}:${this.port}/?directConnection=true${this.tls ? '&tls=true' : ''}`;
  }

  users(): MongoWireUserView[] {
    return this.store.list().map((u) => ({
      db: u.db,
      user: u.user,
      roles: u.roles.map((r) => ({ ...r })),
      mechanisms: Object.keys(u.credentials),
      credentialWrites: u.credentialWrites,
    }));
  }

  /** Every command received so far, oldest first (secret fields redacted). */
  commands(): MongoWireCommandRecord[] {
    return [...this.log];
  }

  /**
   * Fault injection: from now on the named command is received and logged but never answered
   * (a hung server, a lost reply). `stallCommand(name, false)` lets later ones through again.
   */
  stallCommand(name: string, stall = true): void {
    if (stall) this.stalled.add(name);
    else this.stalled.delete(name);
  }

  /** Open client connections right now. */
  openConnections(): number {
    return this.connections.size;
  }

  async stop(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const conn of this.connections) conn.socket.destroy();
    this.connections.clear();
    await closed;
  }

  // -- connections ---------------------------------------------------------------------------

  private accept(socket: net.Socket): void {
    const conn: ConnectionState = {
      id: this.nextConnectionId++,
      socket,
      framer: new MessageFramer(MAX_MESSAGE_SIZE_BYTES),
      checkedFirstHeader: false,
      firstBytes: Buffer.alloc(0),
      sentClientMetadata: false,
      user: undefined,
      conversations: new Map(),
      queue: Promise.resolve(),
    };
    this.connections.add(conn);
    socket.setNoDelay(true);
    socket.on('close', () => this.connections.delete(conn));
    socket.on('error', () => socket.destroy());
    socket.on('data', (chunk: Buffer) => this.onData(conn, chunk));
  }

  private onData(conn: ConnectionState, chunk: Buffer): void {
    if (!conn.checkedFirstHeader) {
      conn.firstBytes = Buffer.concat([conn.firstBytes, chunk]);
      if (conn.firstBytes.length < 16) return;
      conn.checkedFirstHeader = true;
      chunk = conn.firstBytes;
      conn.firstBytes = Buffer.alloc(0);
      // mongod's rule (transport layer, "SSL handshake received but server is started without
      // SSL support"): a first message whose responseTo is neither 0 nor -1 is a TLS ClientHello,
      // and a server without TLS ends the connection at once.
      const responseTo = chunk.readInt32LE(8);
      if (responseTo !== 0 && responseTo !== -1) {
        conn.socket.destroy();
        return;
      }
    }
    let messages: WireMessage[];
    try {
      messages = conn.framer.push(chunk);
    } catch {
      conn.socket.destroy();
      return;
    }
    for (const msg of messages) {
      // One message at a time per connection, in order, like a mongod connection thread.
      conn.queue = conn.queue
        .then(() => this.onMessage(conn, msg))
        .catch((err: unknown) => {
          // Malformed input closes the connection as mongod does; anything else is a bug in the double.
          if (!(err instanceof WireProtocolError)) console.error('MongoWireTestServer: internal error', err);
          conn.socket.destroy();
        });
    }
  }

  private async onMessage(conn: ConnectionState, msg: WireMessage): Promise<void> {
    if (conn.socket.destroyed) return;
    const { opCode, requestId } = msg.header;
    if (opCode === OP_QUERY) {
      const query = parseOpQuery(msg);
      const reply = await this.runOpQuery(conn, query.fullCollectionName, query.query);
      this.write(conn, encodeOpReply(this.nextRequestId++, requestId, reply));
      return;
    }
    if (opCode === OP_MSG) {
      const request = parseOpMsg(msg);
      const reply = await this.runOpMsg(conn, request.body);
      if (request.flagBits & MSG_MORE_TO_COME) return;
      this.write(conn, encodeOpMsg(this.nextRequestId++, requestId, reply));
      return;
    }
    if (opCode === OP_COMPRESSED) throw new WireProtocolError('OP_COMPRESSED is not implemented by the test server');
    throw new WireProtocolError(`unsupported opCode ${opCode}`);
  }

  private write(conn: ConnectionState, bytes: Buffer): void {
    if (!conn.socket.destroyed) conn.socket.write(bytes);
  }

  private async runOpQuery(conn: ConnectionState, fullCollectionName: string, query: Document): Promise<Document> {
    const dot = fullCollectionName.indexOf('.');
    const db = dot < 0 ? fullCollectionName : fullCollectionName.slice(0, dot);
    const collection = dot < 0 ? '' : fullCollectionName.slice(dot + 1);
    // Drivers may wrap the command as {$query: {...}, $readPreference: ...}.
    const body: Document = typeof query.$query === 'object' && query.$query !== null ? (query.$query as Document) : query;
    const name = Object.keys(body)[0] ?? '';
    if (collection !== '$cmd' || !HELLO_NAMES.has(name)) {
      return errorReply(
        new CommandError(
          352,
          'UnsupportedOpQueryCommand',
          `Unsupported OP_QUERY command: ${name}. The client driver may require an upgrade. ` +
            'For more details see https://dochub.mongodb.org/core/legacy-opcode-removal',
        ),
      );
    }
    return this.dispatch(conn, name, db, body, OP_QUERY);
  }

  private async runOpMsg(conn: ConnectionState, body: Document): Promise<Document> {
    const name = Object.keys(body)[0] ?? '';
    const db = body.$db;
    if (typeof db !== 'string' || db === '') {
      return errorReply(new CommandError(40571, 'Location40571', 'OP_MSG requests require a $db argument'));
    }
    return this.dispatch(conn, name, db, body, OP_MSG);
  }

  private async dispatch(conn: ConnectionState, name: string, db: string, body: Document, opCode: number): Promise<Document> {
    this.log.push({
      connectionId: conn.id,
      name,
      db,
      opCode,
      authenticatedAs: conn.user ? { user: conn.user.user, db: conn.user.db } : undefined,
      body: redact(body),
    });
    if (this.stalled.has(name)) {
      // Never answers; the connection's queue waits until the client gives up or stop() closes it.
      await new Promise<never>((_resolve, reject) => conn.socket.once('close', () => reject(new WireProtocolError('stalled command: connection closed'))));
    }
    try {
      if (!NO_AUTH_COMMANDS.has(name) && !AUTH_COMMANDS.has(name)) {
        throw new CommandError(59, 'CommandNotFound', `no such command: '${name}'`);
      }
      if (AUTH_COMMANDS.has(name)) {
        // mongod parses the command before it checks authorization.
        checkFields(name, body);
        if (conn.user === undefined) throw new CommandError(13, 'Unauthorized', `command ${name} requires authentication`);
      }
      switch (name) {
        case 'hello':
        case 'isMaster':
        case 'ismaster':
          return await this.hello(conn, name, body);
        case 'buildInfo':
        case 'buildinfo':
          return buildInfo();
        case 'ping':
        case 'endSessions':
          return { ok: 1 };
        case 'connectionStatus':
          return this.connectionStatus(conn, body);
        case 'saslStart':
          return this.saslStart(conn, db, body);
        case 'saslContinue':
          return this.saslContinue(conn, body);
        case 'createUser':
          return await this.createUser(conn, db, body);
        case 'updateUser':
          return await this.updateUser(conn, db, body);
        case 'dropUser':
          return this.dropUser(conn, db, body);
        case 'usersInfo':
          return this.usersInfo(conn, db, body);
        case 'killAllSessionsByPattern':
          return this.killAllSessionsByPattern(conn, db, body);
        default:
          throw new CommandError(59, 'CommandNotFound', `no such command: '${name}'`);
      }
    } catch (err) {
      if (err instanceof CommandError) return errorReply(err);
      throw err;
    }
  }

  // -- handshake and server info -------------------------------------------------------------

  private async hello(conn: ConnectionState, name: string, body: Document): Promise<Document> {
    if (body.client !== undefined) {
      if (conn.sentClientMetadata) {
        throw new CommandError(186, 'ClientMetadataCannotBeMutated', 'The client metadata document may only be sent in the first hello');
      }
      conn.sentClientMetadata = true;
    }
    const reply: Document = {};
    if (name === 'hello') reply.isWritablePrimary = true;
    else reply.ismaster = true;
    if (body.helloOk === true) reply.helloOk = true;
    Object.assign(reply, {
      maxBsonObjectSize: MAX_BSON_OBJECT_SIZE,
      maxMessageSizeBytes: MAX_MESSAGE_SIZE_BYTES,
      maxWriteBatchSize: MAX_WRITE_BATCH_SIZE,
      localTime: new Date(),
      logicalSessionTimeoutMinutes: 30,
      connectionId: conn.id,
      minWireVersion: WIRE_VERSION.min,
      maxWireVersion: WIRE_VERSION.max,
      readOnly: false,
    });
    if (body.saslSupportedMechs !== undefined) {
      const principal = body.saslSupportedMechs;
      const dot = typeof principal === 'string' ? principal.indexOf('.') : -1;
      if (typeof principal !== 'string' || dot <= 0) {
        throw new CommandError(2, 'BadValue', 'UserName must contain a \'.\' separated database.user pair');
      }
      const user = this.store.get(principal.slice(0, dot), principal.slice(dot + 1));
      // mongod leaves the field out for an unknown user rather than reveal anything.
      if (user) reply.saslSupportedMechs = Object.keys(user.credentials);
    }
    const spec = body.speculativeAuthenticate;
    if (this.speculative && spec !== null && typeof spec === 'object' && (spec as Document).saslStart !== undefined) {
      const specDoc = spec as Document;
      // mongod treats a failed speculative start as if none was sent.
      if (typeof specDoc.db === 'string') {
        try {
          const started = this.saslStart(conn, specDoc.db, specDoc);
          const { ok: _ok, ...speculativeReply } = started;
          if (started.ok === 1) reply.speculativeAuthenticate = speculativeReply;
        } catch {
          conn.conversations.clear();
        }
      }
    }
    reply.ok = 1;
    return reply;
  }

  private connectionStatus(conn: ConnectionState, body: Document): Document {
    const authInfo: Document = {
      authenticatedUsers: conn.user ? [{ user: conn.user.user, db: conn.user.db }] : [],
      authenticatedUserRoles: conn.user ? conn.user.roles.map((r) => ({ role: r.role, db: r.db })) : [],
    };
    if (body.showPrivileges === true) {
      authInfo.authenticatedUserPrivileges = conn.user ? privilegesOf(conn.user.roles) : [];
    }
    return { authInfo, ok: 1 };
  }

  // -- SASL ----------------------------------------------------------------------------------

  private saslStart(conn: ConnectionState, db: string, body: Document): Document {
    const mechanism = body.mechanism;
    if (typeof mechanism !== 'string') {
      throw new CommandError(40414, 'Location40414', "BSON field 'saslStart.mechanism' is missing but a required field");
    }
    if (mechanism !== SCRAM_SHA_256) {
      throw new CommandError(334, 'MechanismUnavailable', `Received authentication for mechanism ${mechanism} which is unknown or not enabled`);
    }
    const payload = payloadBytes(body.payload);
    if (payload === undefined) throw AUTH_FAILED();
    const conversation = new ScramSha256Conversation((username) => this.store.get(db, username)?.credentials[SCRAM_SHA_256]);
    const step = conversation.start(payload);
    if (!step.ok) {
      conn.conversations.delete(1);
      throw AUTH_FAILED();
    }
    // Since MongoDB 5.0 a connection authenticates as one user; a second, different one fails.
    if (conn.user !== undefined && (conn.user.user !== step.username || conn.user.db !== db)) {
      conn.conversations.delete(1);
      throw AUTH_FAILED();
    }
    const options = body.options as Document | undefined;
    conn.conversations.set(1, {
      conversation,
      db,
      skipEmptyExchange: options?.skipEmptyExchange === true,
      awaitingEmpty: false,
    });
    return { conversationId: 1, done: false, payload: new Binary(step.payload), ok: 1 };
  }

  private saslContinue(conn: ConnectionState, body: Document): Document {
    const conversationId = body.conversationId;
    const state = conn.conversations.get(1);
    if (state === undefined) throw new CommandError(17, 'ProtocolError', 'No SASL session state found');
    if (conversationId !== 1) throw new CommandError(17, 'ProtocolError', 'sasl: Mismatched conversation id');
    const payload = payloadBytes(body.payload);
    if (payload === undefined) {
      conn.conversations.delete(1);
      throw AUTH_FAILED();
    }
    if (state.awaitingEmpty) {
      // The third, empty step of a conversation that did not ask to skip it.
      conn.conversations.delete(1);
      this.authenticate(conn, state.db, state.conversation.principal);
      return { conversationId: 1, done: true, payload: new Binary(Buffer.alloc(0)), ok: 1 };
    }
    const step = state.conversation.finish(payload);
    if (!step.ok) {
      conn.conversations.delete(1);
      throw AUTH_FAILED();
    }
    if (state.skipEmptyExchange) {
      conn.conversations.delete(1);
      this.authenticate(conn, state.db, step.username);
      return { conversationId: 1, done: true, payload: new Binary(step.payload), ok: 1 };
    }
    state.awaitingEmpty = true;
    return { conversationId: 1, done: false, payload: new Binary(step.payload), ok: 1 };
  }

  private authenticate(conn: ConnectionState, db: string, username: string): void {
    const user = this.store.get(db, username);
    // The user may have been dropped mid-conversation: mongod fails the same way.
    if (user === undefined) throw AUTH_FAILED();
    conn.user = user;
  }

  // -- user management ----------------------------------------------------------------------

  private async createUser(conn: ConnectionState, db: string, body: Document): Promise<Document> {
    const name = requireString(body, 'createUser');
    const roles = parseRoles(body.roles, db, 'createUser');
    if (!isAuthorizedOnDatabase(this.rolesOf(conn), db, 'createUser')) {
      throw new CommandError(13, 'Unauthorized', `Not authorized to create users on db: ${db}`);
    }
    for (const r of roles) {
      if (!isAuthorizedOnDatabase(this.rolesOf(conn), r.db, 'grantRole')) {
        throw new CommandError(13, 'Unauthorized', `Not authorized to grant role: ${r.role}@${r.db}`);
      }
    }
    if (db === 'local') throw new CommandError(2, 'BadValue', 'Cannot create users in the local database');
    if (name.includes('\0')) throw new CommandError(2, 'BadValue', 'Username cannot contain NULL characters');
    if (body.pwd === undefined) {
      throw new CommandError(2, 'BadValue', "Must provide a 'pwd' field for all user documents, except those with '$external' as the user's source db");
    }
    const credential = await this.buildCredential(body);
    for (const r of roles) {
      if (!roleExists(r)) throw new CommandError(31, 'RoleNotFound', `Could not find role: ${r.role}@${r.db}`);
    }
    const inserted = this.store.insert({
      db,
      user: name,
      roles,
      credentials: { [SCRAM_SHA_256]: credential },
      ...(isPlainObject(body.customData) ? { customData: body.customData as Record<string, unknown> } : {}),
    });
    if (!inserted) throw new CommandError(51003, 'Location51003', `User "${name}@${db}" already exists`);
    return { ok: 1 };
  }

  private async updateUser(conn: ConnectionState, db: string, body: Document): Promise<Document> {
    const name = requireString(body, 'updateUser');
    const who = `${name}@${db}`;
    const roles = this.rolesOf(conn);
    if (body.pwd !== undefined && !isAuthorizedOnDatabase(roles, db, 'changePassword')) {
      throw new CommandError(13, 'Unauthorized', `Not authorized to change password of user: ${who}`);
    }
    if (body.customData !== undefined && !isAuthorizedOnDatabase(roles, db, 'changeCustomData')) {
      throw new CommandError(13, 'Unauthorized', `Not authorized to change customData of user: ${who}`);
    }
    let newRoles: RoleRef[] | undefined;
    if (body.roles !== undefined) {
      if (!isAuthorizedOnDatabase(roles, '', 'revokeRole')) {
        throw new CommandError(
          13,
          'Unauthorized',
          'In order to use updateUser to set roles array, must be authorized to revoke any role in the system',
        );
      }
      newRoles = parseRoles(body.roles, db, 'updateUser');
      for (const r of newRoles) {
        if (!isAuthorizedOnDatabase(roles, r.db, 'grantRole')) {
          throw new CommandError(13, 'Unauthorized', `Not authorized to grant role: ${r.role}@${r.db}`);
        }
      }
    }
    if (Array.isArray(body.mechanisms) && body.mechanisms.length === 0) {
      throw new CommandError(2, 'BadValue', 'mechanisms field must not be empty');
    }
    const credential = body.pwd !== undefined ? await this.buildCredential(body) : undefined;
    if (credential === undefined && body.mechanisms !== undefined) {
      // Without a pwd, mechanisms may only trim to a subset of what the user already has.
      const mechanisms = parseMechanisms(body.mechanisms);
      const existing = this.store.get(db, name);
      if (existing === undefined) throw new CommandError(11, 'UserNotFound', `Could not find user "${name}" for db "${db}"`);
      for (const m of mechanisms) {
        if (!Object.hasOwn(existing.credentials, m)) {
          throw new CommandError(2, 'BadValue', 'mechanisms field must be a subset of previously set mechanisms');
        }
      }
    }
    if (credential === undefined && body.customData === undefined && newRoles === undefined && body.mechanisms === undefined) {
      throw new CommandError(2, 'BadValue', 'Must specify at least one field to update in updateUser');
    }
    if (newRoles) {
      for (const r of newRoles) {
        if (!roleExists(r)) throw new CommandError(31, 'RoleNotFound', `Could not find role: ${r.role}@${r.db}`);
      }
    }
    // Looked up last, after every await, so concurrent updates apply whole.
    const user = this.store.get(db, name);
    if (user === undefined) throw new CommandError(11, 'UserNotFound', `User ${who} not found`);
    if (credential) {
      user.credentials = { [SCRAM_SHA_256]: credential };
      user.credentialWrites += 1;
    }
    if (newRoles) user.roles = newRoles;
    if (isPlainObject(body.customData)) user.customData = body.customData as Record<string, unknown>;
    return { ok: 1 };
  }

  private dropUser(conn: ConnectionState, db: string, body: Document): Document {
    const name = requireString(body, 'dropUser');
    if (!isAuthorizedOnDatabase(this.rolesOf(conn), db, 'dropUser')) {
      throw new CommandError(13, 'Unauthorized', `Not authorized to drop users from the ${db} database`);
    }
    if (!this.store.delete(db, name)) throw new CommandError(11, 'UserNotFound', `User '${name}@${db}' not found`);
    for (const other of this.connections) {
      // mongod invalidates the user: its connections lose their authorization.
      if (other.user?.db === db && other.user.user === name) other.user = undefined;
    }
    return { ok: 1 };
  }

  private killAllSessionsByPattern(conn: ConnectionState, db: string, body: Document): Document {
    if (db !== 'admin') throw new CommandError(13, 'Unauthorized', 'killAllSessionsByPattern may only be run against the admin database.');
    if (!Array.isArray(body.killAllSessionsByPattern)) {
      throw new CommandError(14, 'TypeMismatch', "BSON field 'killAllSessionsByPattern' is the wrong type, expected type 'array'");
    }
    if (!isAuthorizedOnCluster(this.rolesOf(conn), 'killAnySession')) throw new CommandError(13, 'Unauthorized', 'not authorized on admin to execute command');
    const users = (body.killAllSessionsByPattern as Document[]).flatMap((p) => (Array.isArray(p.users) ? (p.users as Document[]) : []));
    for (const other of this.connections) {
      if (other === conn || other.user === undefined) continue;
      const u = other.user;
      if (users.some((x) => x.user === u.user && x.db === u.db)) other.socket.destroy();
    }
    return { ok: 1 };
  }

  private usersInfo(conn: ConnectionState, db: string, body: Document): Document {
    if (body.showCredentials === true) {
      throw new CommandError(2, 'BadValue', 'showCredentials is not supported by the MongoDB wire test server');
    }
    const roles = this.rolesOf(conn);
    const arg = body.usersInfo;
    let selected: StoredUser[];
    if (typeof arg === 'number' && arg === 1) {
      if (!isAuthorizedOnDatabase(roles, db, 'viewUser')) {
        throw new CommandError(13, 'Unauthorized', `Not authorized to view users from the ${db} database`);
      }
      selected = this.store.list().filter((u) => u.db === db);
    } else if (isPlainObject(arg) && (arg as Document).forAllDBs === true) {
      if (!isAuthorizedOnCluster(roles, 'viewUser')) {
        throw new CommandError(13, 'Unauthorized', 'Not authorized to view users from all databases');
      }
      selected = this.store.list();
    } else {
      const names = (Array.isArray(arg) ? arg : [arg]).map((n) => parseUserName(n, db));
      selected = [];
      for (const n of names) {
        const self = conn.user !== undefined && conn.user.user === n.user && conn.user.db === n.db;
        // "Can always view users you are logged in as."
        if (!self && !isAuthorizedOnDatabase(roles, n.db, 'viewUser')) {
          throw new CommandError(13, 'Unauthorized', `Not authorized to view users from the ${db} database`);
        }
        const found = this.store.get(n.db, n.user);
        if (found) selected.push(found);
      }
    }
    selected.sort((a, b) => (a.user === b.user ? cmp(a.db, b.db) : cmp(a.user, b.user)));
    const users = selected.map((u) => {
      const doc: Document = {
        _id: `${u.db}.${u.user}`,
        userId: new UUID(u.userId),
        user: u.user,
        db: u.db,
        roles: u.roles.map((r) => ({ role: r.role, db: r.db })),
        mechanisms: Object.keys(u.credentials),
      };
      if (u.customData !== undefined) doc.customData = u.customData;
      if (body.showPrivileges === true) {
        doc.inheritedRoles = doc.roles;
        doc.inheritedPrivileges = privilegesOf(u.roles);
      }
      return doc;
    });
    return { users, ok: 1 };
  }

  private rolesOf(conn: ConnectionState): RoleRef[] {
    // Re-read: an updateUser that changed this user's roles applies at once, as after
    // mongod's user-cache invalidation.
    if (conn.user === undefined) return [];
    return this.store.get(conn.user.db, conn.user.user)?.roles ?? [];
  }

  /** mongod's buildCredentials for a SCRAM-SHA-256-only server. */
  private async buildCredential(body: Document): Promise<StoredUser['credentials'][typeof SCRAM_SHA_256]> {
    if (typeof body.pwd !== 'string') {
      throw new CommandError(14, 'TypeMismatch', `BSON field 'pwd' is the wrong type '${bsonTypeName(body.pwd)}', expected type 'string'`);
    }
    if (body.pwd === '') throw new CommandError(2, 'BadValue', 'Password cannot be empty');
    if (body.mechanisms !== undefined) parseMechanisms(body.mechanisms);
    const digestPassword = body.digestPassword ?? true;
    if (typeof digestPassword !== 'boolean') {
      throw new CommandError(14, 'TypeMismatch', "BSON field 'digestPassword' is the wrong type, expected type 'bool'");
    }
    if (!digestPassword) throw new CommandError(2, 'BadValue', 'Use of SCRAM-SHA-256 requires undigested passwords');
    try {
      return await makeScramSha256Credential(body.pwd, this.iterations);
    } catch {
      throw new CommandError(2, 'BadValue', 'Error preparing SASL password: the password contains characters SASLprep prohibits');
    }
  }
}

// -- helpers -----------------------------------------------------------------------------------

function errorReply(err: CommandError): Document {
  return { ok: 0, errmsg: err.message, code: err.code, codeName: err.codeName };
}

function buildInfo(): Document {
  const [major, minor, patch] = SERVER_VERSION.split('.').map(Number);
  return {
    version: SERVER_VERSION,
    gitVersion: '0000000000000000000000000000000000000000',
    modules: [],
    allocator: 'system',
    javascriptEngine: 'none',
    sysInfo: 'deprecated',
    versionArray: [major, minor, patch, 0],
    bits: 64,
    debug: false,
    maxBsonObjectSize: MAX_BSON_OBJECT_SIZE,
    storageEngines: [],
    ok: 1,
  };
}

function redact(body: Document): Document {
  const out: Document = { ...body };
  if ('pwd' in out) out.pwd = 'xxx';
  if ('payload' in out) out.payload = '<redacted>';
  if (isPlainObject(out.speculativeAuthenticate)) {
    out.speculativeAuthenticate = { ...(out.speculativeAuthenticate as Document), payload: '<redacted>' };
  }
  return out;
}

function payloadBytes(payload: unknown): Buffer | undefined {
  if (payload instanceof Binary) return Buffer.from(payload.buffer.subarray(0, payload.position));
  if (payload instanceof Uint8Array) return Buffer.from(payload);
  // SaslPayload also accepts a base64 string.
  if (typeof payload === 'string') return Buffer.from(payload, 'base64');
  return undefined;
}

function isPlainObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Binary);
}

function bsonTypeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'int' : 'double';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'object') return 'object';
  return typeof value;
}

function requireString(body: Document, field: string): string {
  const value = body[field];
  if (typeof value !== 'string') {
    throw new CommandError(14, 'TypeMismatch', `BSON field '${field}.${field}' is the wrong type '${bsonTypeName(value)}', expected type 'string'`);
  }
  return value;
}

function checkFields(command: string, body: Document): void {
  const allowed = COMMAND_FIELDS[command];
  if (!allowed) return;
  for (const key of Object.keys(body)) {
    if (!allowed.has(key) && !GENERIC_FIELDS.has(key)) {
      throw new CommandError(40415, 'Location40415', `BSON field '${command}.${key}' is an unknown field.`);
    }
  }
  if (command === 'createUser' && body.roles === undefined) {
    throw new CommandError(40414, 'Location40414', "BSON field 'createUser.roles' is missing but a required field");
  }
}

function parseMechanisms(value: unknown): string[] {
  if (!Array.isArray(value) || value.some((m) => typeof m !== 'string')) {
    throw new CommandError(14, 'TypeMismatch', "BSON field 'mechanisms' is the wrong type, expected type 'array' of strings");
  }
  if (value.length === 0) throw new CommandError(2, 'BadValue', 'mechanisms field must not be empty');
  for (const m of value as string[]) {
    if (m === 'SCRAM-SHA-1') throw new CommandError(2, 'BadValue', 'SCRAM-SHA-1 not supported in authMechanisms');
    if (m !== SCRAM_SHA_256) throw new CommandError(2, 'BadValue', `Unknown auth mechanism '${m}'`);
  }
  return value as string[];
}

function parseRoles(value: unknown, db: string, command: string): RoleRef[] {
  if (!Array.isArray(value)) {
    throw new CommandError(14, 'TypeMismatch', `BSON field '${command}.roles' is the wrong type '${bsonTypeName(value)}', expected type 'array'`);
  }
  const seen = new Map<string, RoleRef>();
  for (const entry of value) {
    let role: RoleRef;
    if (typeof entry === 'string') role = { role: entry, db };
    else if (isPlainObject(entry) && typeof (entry as Document).role === 'string' && typeof (entry as Document).db === 'string') {
      role = { role: (entry as Document).role as string, db: (entry as Document).db as string };
    } else {
      throw new CommandError(14, 'TypeMismatch', 'Role names must be either strings or objects');
    }
    seen.set(`${role.role}@${role.db}`, role);
  }
  return [...seen.values()];
}

function parseUserName(value: unknown, db: string): { user: string; db: string } {
  if (typeof value === 'string') return { user: value, db };
  if (isPlainObject(value) && typeof (value as Document).user === 'string' && typeof (value as Document).db === 'string') {
    return { user: (value as Document).user as string, db: (value as Document).db as string };
  }
  throw new CommandError(2, 'BadValue', 'User name must be either a string or an object with user and db fields');
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
