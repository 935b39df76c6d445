export interface IssuedCert {
    certFile: string;
    keyFile: string;
    cert: string;
    key: string;
    /** base64 SHA-256 of the certificate's SPKI: what `pinSha256` expects. */
    spkiSha256: string;
    /** As `tls.TLSSocket#getPeerCertificate().fingerprint256` shows it (AA:BB:…). */
    fingerprint256: string;
}
export interface TestCa {
    dir: string;
    /** The CA certificate (PEM): a client's caFile. */
    caFile: string;
    /** A certificate signed by this CA. Default: a server certificate for 127.0.0.1 and localhost. */
    issue(opts?: {
        names?: string[];
        client?: boolean;
        days?: number;
    }): IssuedCert;
    cleanup(): void;
}
/** base64 SHA-256 of a PEM certificate's SubjectPublicKeyInfo. */
export declare function spkiSha256Of(certPem: string): string;
export declare function makeTestCa(label?: string): TestCa;
