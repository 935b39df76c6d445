#!/usr/bin/env node
import type { OpenApiDocument } from '../vault-server/http/openapi.js';
export declare const API_DOC = "docs/api.md";
export declare const REGENERATE = "npm run gen:api-doc";
/** The generated sections of docs/api.md, by marker name. */
export declare function renderApiSections(doc: OpenApiDocument): Record<'routes' | 'errors' | 'states', string>;
/** `markdown` with the text between each section's markers replaced; throws if a marker is missing. */
export declare function applyApiSections(markdown: string, sections: Record<string, string>): string;
/** The OpenAPI document of a vault built in-process over a throwaway SQLite store. */
export declare function liveOpenApiDocument(): Promise<OpenApiDocument>;
