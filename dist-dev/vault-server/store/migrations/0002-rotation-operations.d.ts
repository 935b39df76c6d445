/**
 * Rotation in operation: when a policy's agents were last seen alive is tracked so that
 * `rotation.no_agent` fires once per episode, not on every scheduler tick; and an `alternating`
 * policy remembers its first user, the other one being `alternate_username`.
 */
import type { Migration } from 'kysely';
import type { Dialect } from '../open-store.js';
export declare function rotationOperationsMigration(dialect: Dialect): Migration;
