/**
 * MongoDB wire-protocol framing for the MongoDB wire TEST DOUBLE (`mongo-wire-server.ts`): split a
 * byte stream into messages, parse OP_QUERY and OP_MSG requests, build OP_REPLY and OP_MSG
 * replies. Test support only; nothing in the product imports it.
 *
 * Layouts follow MongoDB's "Wire Protocol" reference: every message starts with a 16-byte header
 * (messageLength, requestID, responseTo, opCode, all little-endian int32).
 *
 * @example
 *   const framer = new MessageFramer(48_000_000);
 *   for (const msg of framer.push(chunk)) {
 *     if (msg.header.opCode === OP_MSG) handle(parseOpMsg(msg));
 *   }
 */
import { BSON } from 'bson';
export const OP_REPLY = 1;
export const OP_QUERY = 2004;
export const OP_COMPRESSED = 2012;
export const OP_MSG = 2013;
const HEADER_SIZE = 16;
/** OP_MSG flag bits (MongoDB's OP_MSG specification). */
export const MSG_CHECKSUM_PRESENT = 1 << 0;
export const MSG_MORE_TO_COME = 1 << 1;
export const MSG_EXHAUST_ALLOWED = 1 << 16;
/** Bits 0-15 are "required": a receiver must reject a message with one it does not know. */
const MSG_KNOWN_REQUIRED_BITS = MSG_CHECKSUM_PRESENT | MSG_MORE_TO_COME;
/** A framing or parsing error: MongoDB answers these by closing the connection. */
export class WireProtocolError extends Error {
    name = 'WireProtocolError';
}
/** Cuts a TCP byte stream into whole messages, however the bytes arrive. */
export class MessageFramer {
    maxMessageSizeBytes;
    buffered = Buffer.alloc(0);
    constructor(maxMessageSizeBytes) {
        this.maxMessageSizeBytes = maxMessageSizeBytes;
    }
    /** Returns every message completed by `chunk`; throws WireProtocolError on an impossible length. */
    push(chunk) {
        this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
        const out = [];
        while (this.buffered.length >= 4) {
            const messageLength = this.buffered.readInt32LE(0);
            if (messageLength < HEADER_SIZE || messageLength > this.maxMessageSizeBytes) {
                throw new WireProtocolError(`invalid message length ${messageLength}`);
            }
            if (this.buffered.length < messageLength)
                break;
            const raw = this.buffered.subarray(0, messageLength);
            this.buffered = this.buffered.subarray(messageLength);
            out.push({
                raw,
                header: {
                    messageLength,
                    requestId: raw.readInt32LE(4),
                    responseTo: raw.readInt32LE(8),
                    opCode: raw.readInt32LE(12),
                },
            });
        }
        return out;
    }
}
function readCString(buf, offset) {
    const end = buf.indexOf(0, offset);
    if (end < 0)
        throw new WireProtocolError('unterminated cstring');
    return { value: buf.toString('utf8', offset, end), next: end + 1 };
}
function readDocument(buf, offset, limit) {
    if (offset + 5 > limit)
        throw new WireProtocolError('truncated BSON document');
    const size = buf.readInt32LE(offset);
    if (size < 5 || offset + size > limit)
        throw new WireProtocolError(`invalid BSON document size ${size}`);
    try {
        // promoteValues keeps Binary as Binary so SASL payloads stay bytes.
        const doc = BSON.deserialize(buf.subarray(offset, offset + size), { promoteBuffers: false });
        return { doc, next: offset + size };
    }
    catch (cause) {
        throw new WireProtocolError(`invalid BSON: ${cause.message}`);
    }
}
/** OP_QUERY: flags, fullCollectionName (cstring), numberToSkip, numberToReturn, query [, fields]. */
export function parseOpQuery(msg) {
    const buf = msg.raw;
    let offset = HEADER_SIZE;
    if (buf.length < offset + 4)
        throw new WireProtocolError('truncated OP_QUERY');
    const flags = buf.readInt32LE(offset);
    offset += 4;
    const name = readCString(buf, offset);
    offset = name.next;
    if (buf.length < offset + 8)
        throw new WireProtocolError('truncated OP_QUERY');
    const numberToSkip = buf.readInt32LE(offset);
    const numberToReturn = buf.readInt32LE(offset + 4);
    offset += 8;
    const { doc } = readDocument(buf, offset, buf.length);
    return { flags, fullCollectionName: name.value, numberToSkip, numberToReturn, query: doc };
}
/** OP_MSG: flagBits, sections (kind 0 body, kind 1 document sequences), optional CRC-32C. */
export function parseOpMsg(msg) {
    const buf = msg.raw;
    if (buf.length < HEADER_SIZE + 4)
        throw new WireProtocolError('truncated OP_MSG');
    const flagBits = buf.readUInt32LE(HEADER_SIZE);
    const unknownRequired = flagBits & 0xffff & ~MSG_KNOWN_REQUIRED_BITS;
    if (unknownRequired !== 0) {
        throw new WireProtocolError(`OP_MSG carries unknown required flag bits 0x${unknownRequired.toString(16)}`);
    }
    let end = buf.length;
    let checksumVerified = false;
    if (flagBits & MSG_CHECKSUM_PRESENT) {
        if (buf.length < HEADER_SIZE + 4 + 4)
            throw new WireProtocolError('OP_MSG too short for its checksum');
        end = buf.length - 4;
        const expected = buf.readUInt32LE(end);
        if (crc32c(buf.subarray(0, end)) !== expected)
            throw new WireProtocolError('OP_MSG checksum mismatch');
        checksumVerified = true;
    }
    let offset = HEADER_SIZE + 4;
    let body;
    const sequences = [];
    while (offset < end) {
        const kind = buf[offset];
        offset += 1;
        if (kind === 0) {
            if (body !== undefined)
                throw new WireProtocolError('OP_MSG has more than one kind-0 section');
            const read = readDocument(buf, offset, end);
            body = read.doc;
            offset = read.next;
        }
        else if (kind === 1) {
            if (offset + 4 > end)
                throw new WireProtocolError('truncated document sequence');
            const size = buf.readInt32LE(offset);
            const sectionEnd = offset + size;
            if (size < 5 || sectionEnd > end)
                throw new WireProtocolError(`invalid document sequence size ${size}`);
            const id = readCString(buf, offset + 4);
            let cursor = id.next;
            const docs = [];
            while (cursor < sectionEnd) {
                const read = readDocument(buf, cursor, sectionEnd);
                docs.push(read.doc);
                cursor = read.next;
            }
            sequences.push({ id: id.value, docs });
            offset = sectionEnd;
        }
        else {
            throw new WireProtocolError(`unknown OP_MSG section kind ${String(kind)}`);
        }
    }
    if (body === undefined)
        throw new WireProtocolError('OP_MSG has no kind-0 section');
    for (const seq of sequences) {
        if (Object.hasOwn(body, seq.id)) {
            throw new WireProtocolError(`duplicate field ${seq.id} in body and document sequence`);
        }
        body[seq.id] = seq.docs;
    }
    return { flagBits, body, sequenceIds: sequences.map((s) => s.id), checksumVerified };
}
function header(length, requestId, responseTo, opCode) {
    const h = Buffer.alloc(HEADER_SIZE);
    h.writeInt32LE(length, 0);
    h.writeInt32LE(requestId, 4);
    h.writeInt32LE(responseTo, 8);
    h.writeInt32LE(opCode, 12);
    return h;
}
/** OP_REPLY with one document: responseFlags 0, cursorID 0, startingFrom 0, numberReturned 1. */
export function encodeOpReply(requestId, responseTo, doc) {
    const body = Buffer.from(BSON.serialize(doc));
    const fixed = Buffer.alloc(20);
    fixed.writeInt32LE(0, 0); // responseFlags
    fixed.writeBigInt64LE(0n, 4); // cursorID
    fixed.writeInt32LE(0, 12); // startingFrom
    fixed.writeInt32LE(1, 16); // numberReturned
    const length = HEADER_SIZE + fixed.length + body.length;
    return Buffer.concat([header(length, requestId, responseTo, OP_REPLY), fixed, body]);
}
/** OP_MSG with one kind-0 section; with `checksum` the CRC-32C trailer is appended. */
export function encodeOpMsg(requestId, responseTo, doc, options = {}) {
    const body = Buffer.from(BSON.serialize(doc));
    let flagBits = options.flagBits ?? 0;
    if (options.checksum)
        flagBits |= MSG_CHECKSUM_PRESENT;
    const flags = Buffer.alloc(4);
    flags.writeUInt32LE(flagBits >>> 0, 0);
    const length = HEADER_SIZE + 4 + 1 + body.length + (options.checksum ? 4 : 0);
    const withoutChecksum = Buffer.concat([header(length, requestId, responseTo, OP_MSG), flags, Buffer.from([0]), body]);
    if (!options.checksum)
        return withoutChecksum;
    const crc = Buffer.alloc(4);
    crc.writeUInt32LE(crc32c(withoutChecksum), 0);
    return Buffer.concat([withoutChecksum, crc]);
}
/** OP_QUERY on `<db>.$cmd`, as a client's legacy handshake sends it (for raw-socket tests). */
export function encodeOpQuery(requestId, fullCollectionName, query) {
    const name = Buffer.from(`${fullCollectionName}\0`, 'utf8');
    const doc = Buffer.from(BSON.serialize(query));
    const fixed = Buffer.alloc(4);
    fixed.writeInt32LE(0, 0);
    const skipReturn = Buffer.alloc(8);
    skipReturn.writeInt32LE(0, 0);
    skipReturn.writeInt32LE(-1, 4);
    const length = HEADER_SIZE + 4 + name.length + 8 + doc.length;
    return Buffer.concat([header(length, requestId, 0, OP_QUERY), fixed, name, skipReturn, doc]);
}
/** Reads the single document of an OP_REPLY or the kind-0 body of an OP_MSG reply. */
export function decodeReply(msg) {
    if (msg.header.opCode === OP_REPLY) {
        return readDocument(msg.raw, HEADER_SIZE + 20, msg.raw.length).doc;
    }
    if (msg.header.opCode === OP_MSG)
        return parseOpMsg(msg).body;
    throw new WireProtocolError(`not a reply opCode: ${msg.header.opCode}`);
}
// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), as OP_MSG checksums use.
const CRC32C_TABLE = (() => {
    const table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
        let c = n;
        for (let k = 0; k < 8; k++)
            c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
        table[n] = c >>> 0;
    }
    return table;
})();
export function crc32c(data) {
    let crc = 0xffffffff;
    for (const byte of data)
        crc = (CRC32C_TABLE[(crc ^ byte) & 0xff] ?? 0) ^ (crc >>> 8);
    return (crc ^ 0xffffffff) >>> 0;
}
//# sourceMappingURL=mongo-wire-protocol.js.map