/** Levenshtein distance, ignoring case. */
export declare function editDistance(a: string, b: string): number;
/** The valid name closest to `key` (the first of equally close ones, in `valid`'s order). */
export declare function nearest(key: string, valid: readonly string[]): string;
/**
 * Reads a configuration file: `.json` as JSON, anything else as YAML (which also reads JSON).
 * An empty file is an empty object; anything but an object of settings is SK_ERR_CONFIG.
 */
export declare function readConfigFile(file: string): Record<string, unknown>;
