import { performance } from 'node:perf_hooks';
import { SikkerKeyError, isSikkerKeyError } from '../../protocol/errors.js';
export class LeaseLostError extends Error {
    constructor() {
        super('the rotation lease was lost');
        this.name = 'LeaseLostError';
    }
}
/**
 * Renews a claim's lease with fenced heartbeats every third of its length. Time is measured on
 * this host's monotonic clock from the last renewal the vault acknowledged, so no clock is
 * compared between hosts. `assertHeld()` is called before every step that touches the database:
 * an agent that could not renew, or was fenced out, stops touching it.
 */
export class LeaseKeeper {
    job;
    vault;
    log;
    renewedAt = performance.now();
    leaseMs;
    timer;
    fenced = false;
    constructor(job, vault, log) {
        this.job = job;
        this.vault = vault;
        this.log = log;
        this.leaseMs = job.leaseSeconds * 1000;
    }
    start() {
        this.timer = setInterval(() => void this.renew(), Math.max(200, this.leaseMs / 3));
    }
    async renew() {
        const sentAt = performance.now();
        try {
            const res = await this.vault.heartbeat(this.job.id, this.job.fence);
            this.renewedAt = sentAt;
            this.leaseMs = res.leaseSeconds * 1000;
        }
        catch (err) {
            if (isSikkerKeyError(err, 'SK_ERR_ROTATION_FENCED') || isSikkerKeyError(err, 'SK_ERR_ROTATION_STATE')) {
                this.fenced = true;
                this.stop();
            }
            this.log.warn({ rotationId: this.job.id, code: isSikkerKeyError(err) ? err.code : 'error' }, 'lease renewal failed');
        }
    }
    /** Throws unless the lease is still ours with a safety margin of a fifth of its length. */
    assertHeld() {
        if (this.fenced)
            throw new SikkerKeyError('SK_ERR_ROTATION_FENCED', 'this claim was fenced out by a newer one');
        if (performance.now() - this.renewedAt > this.leaseMs * 0.8)
            throw new LeaseLostError();
    }
    stop() {
        if (this.timer)
            clearInterval(this.timer);
        this.timer = undefined;
    }
}
//# sourceMappingURL=lease-keeper.js.map