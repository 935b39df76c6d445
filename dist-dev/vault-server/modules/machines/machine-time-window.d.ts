export declare const DAY_NAMES: readonly ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
export interface TimeWindow {
    /** The text it was parsed from (normalised spacing). */
    text: string;
    /** Allowed start days, 0 = Sunday … 6 = Saturday. */
    days: ReadonlySet<number>;
    /** Minutes after local midnight: start inclusive, end exclusive (1440 = 24:00). */
    startMinute: number;
    endMinute: number;
    zone: string;
}
/** Throws SK_ERR_VALIDATION naming what is wrong. */
export declare function parseTimeWindow(input: string): TimeWindow;
/** The local weekday (0 = Sunday) and minute of the day at `nowMs` in `zone`. */
export declare function localDayAndMinute(zone: string, nowMs: number): {
    day: number;
    minute: number;
};
export declare function isInsideWindow(w: TimeWindow, nowMs: number): boolean;
