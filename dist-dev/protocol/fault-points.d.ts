export type FaultPoint = 'after-claim' | 'after-update' | 'after-applied' | 'after-verify' | 'after-confirm' | 'vault-after-confirm-commit' | 'vault-after-create' | 'vault-after-claim-commit';
export declare function faultPoint(name: FaultPoint): Promise<void>;
