/** The states the "one unfinished rotation per secret" index covers. */
export const UNFINISHED_ROTATION_STATES = ['pending', 'claimed', 'applied', 'stuck'];
//# sourceMappingURL=database.js.map