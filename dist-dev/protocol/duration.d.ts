import type { ErrorCode } from './errors.js';
/** What every duration flag and setting accepts, as error messages and docs say it. */
export declare const DURATION_FORMS = "90 (seconds), 90s, 10m, 2h, 30d or 500ms";
/**
 * The one duration syntax of SikkerKey, for every flag, setting and API field that takes a
 * duration: a whole number with one unit — `ms`, `s`, `m`, `h`, `d` — or a bare whole number,
 * which is seconds. A number (from a JSON or YAML config file) is seconds too. Nothing else: no
 * fractions, no signs, no spaces, no combined units (`1h30m`: write `90m`). Returns milliseconds.
 *
 * A refusal names `option` and the accepted forms. Its code is SK_ERR_USAGE (a command-line
 * flag) unless the caller says otherwise: SK_ERR_CONFIG for a setting, SK_ERR_VALIDATION for a
 * request body.
 *
 * @example
 *   parseDuration('10m', '--grace')       // 600_000
 *   parseDuration('90', '--timeout')      // 90_000
 *   parseDuration('1h30m', '--grace')     // throws SK_ERR_USAGE
 */
export declare function parseDuration(text: string | number, option: string, code?: ErrorCode): number;
