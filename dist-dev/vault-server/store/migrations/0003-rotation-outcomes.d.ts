import type { Migration } from 'kysely';
import type { Dialect } from '../open-store.js';
export declare function rotationOutcomesMigration(_dialect: Dialect): Migration;
