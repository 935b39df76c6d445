/** Every secret-bearing field name, once each. */
export declare const SECRET_FIELD_NAMES: readonly string[];
/** pino `redact` paths for those names: at the top of a log object and one level down. */
export declare const SECRET_REDACT_PATHS: readonly string[];
