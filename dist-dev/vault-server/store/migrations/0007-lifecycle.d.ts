/**
 * Lifecycle (issue "A lifecycle for everything"): projects and secrets go to a trash before they
 * are purged (`deleted_at`, `deleted_by`); secrets carry a description and tags; a rotation policy
 * paused by a deletion or a machine's removal says so (`paused_reason`), so a restore resumes
 * exactly the policies it paused and none an operator paused by hand.
 *
 * A project in the trash keeps its secrets' own `deleted_at` untouched: restoring the project
 * brings back what was live in it, and a secret deleted before the project stays in the trash.
 */
import type { Migration } from 'kysely';
import type { Dialect } from '../open-store.js';
export declare function lifecycleMigration(dialect: Dialect): Migration;
