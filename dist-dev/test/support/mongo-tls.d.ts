export interface TestPki {
    /** Path of the CA certificate (PEM): what a client's caFile points at. */
    caFile: string;
    /** A key and certificate for a server, signed by this CA, valid for the given names. */
    server(...names: string[]): {
        key: string;
        cert: string;
    };
    cleanup(): void;
}
export declare function makeTestPki(label?: string): TestPki;
