export declare const TEST_COUNTRIES: Readonly<Record<string, string>>;
/** Builds the database in a temporary directory; fails loudly when Perl or the writer module is missing. */
export declare function buildGeoIpDb(networks?: Readonly<Record<string, string>>): Promise<{
    path: string;
    remove: () => Promise<void>;
}>;
