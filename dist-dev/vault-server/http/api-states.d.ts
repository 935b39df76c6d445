/** One enumeration the API answers with: the JSON field(s) that carry it and every value. */
export interface ApiEnum {
    /** The name used as an OpenAPI component schema (`#/components/schemas/<name>`). */
    name: string;
    /** Where the value appears, in a few words. */
    where: string;
    values: readonly string[];
}
/**
 * The enumerations a client branches on (`state`, `status`, `kind`, `role`, …), defined once in
 * the types they come from; `scripts/gen-api-doc.ts` lists them in docs/api.md and the OpenAPI
 * document declares each as a component schema.
 */
export declare const API_ENUMS: readonly ApiEnum[];
