import type { Document } from 'bson';
export declare const OP_REPLY = 1;
export declare const OP_QUERY = 2004;
export declare const OP_COMPRESSED = 2012;
export declare const OP_MSG = 2013;
/** OP_MSG flag bits (MongoDB's OP_MSG specification). */
export declare const MSG_CHECKSUM_PRESENT: number;
export declare const MSG_MORE_TO_COME: number;
export declare const MSG_EXHAUST_ALLOWED: number;
export interface WireHeader {
    messageLength: number;
    requestId: number;
    responseTo: number;
    opCode: number;
}
export interface WireMessage {
    header: WireHeader;
    /** The whole message, header included (the OP_MSG checksum covers all of it). */
    raw: Buffer;
}
/** A framing or parsing error: MongoDB answers these by closing the connection. */
export declare class WireProtocolError extends Error {
    readonly name = "WireProtocolError";
}
/** Cuts a TCP byte stream into whole messages, however the bytes arrive. */
export declare class MessageFramer {
    private readonly maxMessageSizeBytes;
    private buffered;
    constructor(maxMessageSizeBytes: number);
    /** Returns every message completed by `chunk`; throws WireProtocolError on an impossible length. */
    push(chunk: Buffer): WireMessage[];
}
export interface OpQueryRequest {
    flags: number;
    fullCollectionName: string;
    numberToSkip: number;
    numberToReturn: number;
    query: Document;
}
/** OP_QUERY: flags, fullCollectionName (cstring), numberToSkip, numberToReturn, query [, fields]. */
export declare function parseOpQuery(msg: WireMessage): OpQueryRequest;
export interface OpMsgRequest {
    flagBits: number;
    /** The kind-0 body with every kind-1 document sequence merged in as an array field. */
    body: Document;
    /** Identifiers of the kind-1 sections, in order (so a test can see they were used). */
    sequenceIds: string[];
    checksumVerified: boolean;
}
/** OP_MSG: flagBits, sections (kind 0 body, kind 1 document sequences), optional CRC-32C. */
export declare function parseOpMsg(msg: WireMessage): OpMsgRequest;
/** OP_REPLY with one document: responseFlags 0, cursorID 0, startingFrom 0, numberReturned 1. */
export declare function encodeOpReply(requestId: number, responseTo: number, doc: Document): Buffer;
/** OP_MSG with one kind-0 section; with `checksum` the CRC-32C trailer is appended. */
export declare function encodeOpMsg(requestId: number, responseTo: number, doc: Document, options?: {
    checksum?: boolean;
    flagBits?: number;
}): Buffer;
/** OP_QUERY on `<db>.$cmd`, as a client's legacy handshake sends it (for raw-socket tests). */
export declare function encodeOpQuery(requestId: number, fullCollectionName: string, query: Document): Buffer;
/** Reads the single document of an OP_REPLY or the kind-0 body of an OP_MSG reply. */
export declare function decodeReply(msg: WireMessage): Document;
export declare function crc32c(data: Uint8Array): number;
