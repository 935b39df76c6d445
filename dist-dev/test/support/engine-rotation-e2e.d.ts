import type { RotationHarness } from './rotation-harness.js';
export interface EngineRotationSetup {
    /** Test names start with it, e.g. "mongodb (MongoDB wire test server)". */
    label: string;
    harness: RotationHarness;
    user: string;
    /** The admin secret's fields, to restore after the wrong-password case. */
    admin: Record<string, string>;
    login(user: string, password: string): Promise<boolean>;
}
/** Declares the tests; `setup()` is called inside them, after the file's `before` hook ran. */
export declare function defineEngineRotationTests(label: string, setup: () => EngineRotationSetup, rotations?: number): void;
