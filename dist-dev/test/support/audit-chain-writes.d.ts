export interface ChainVault {
    /** A request as the operator: its status and body (an error answer too, never thrown). */
    call(method: string, target: string, body?: unknown): Promise<{
        status: number;
        body: unknown;
    }>;
    /** The vault's verification of the whole chain. */
    verify(): Promise<{
        ok: boolean;
        events: number;
        firstBad?: unknown;
    }>;
    /** Every event's sequence number and predecessor hash, in chain order. */
    events(): Promise<Array<{
        seq: number;
        prevHash: string;
    }>>;
}
/** A project, then 50 concurrent secret writes: all succeed and the chain holds every one of them, unforked. */
export declare function fiftyConcurrentWrites(v: ChainVault): Promise<{
    events: number;
}>;
