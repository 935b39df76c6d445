export interface GeoIpLookup {
    /** The ISO-3166 alpha-2 code of the address's country, or undefined when the database has none. */
    countryOf(ip: string): string | undefined;
}
/** Throws SK_ERR_CONFIG when the file cannot be read or is not a MaxMind database. */
export declare function openGeoIp(path: string): Promise<GeoIpLookup>;
/**
 * Normalises and validates an ISO-3166 alpha-2 country list (`no,se` → `['NO','SE']`).
 * Throws SK_ERR_VALIDATION for codes that are not countries (UK → use GB; EU is not a country).
 */
export declare function parseCountryList(codes: readonly string[]): string[];
