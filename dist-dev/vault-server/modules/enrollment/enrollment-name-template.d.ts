export declare const NAME_PLACEHOLDERS: readonly ["hostname", "rand4", "n", "date"];
export declare const DEFAULT_NAME_TEMPLATE = "{hostname}-{rand4}";
/** Throws SK_ERR_VALIDATION when the template uses an unknown placeholder or a character a name cannot hold. */
export declare function validateNameTemplate(template: string): string;
/** A name matching NAME_PATTERN (context.ts) from any text. */
export declare function sanitizeName(text: string): string;
export declare function renderName(template: string, v: {
    hostname: string;
    n: number;
    now: number;
    suffix?: boolean;
}): string;
/** Whether a retry after a name conflict gives a new name by itself. */
export declare const hasRandom: (template: string) => boolean;
