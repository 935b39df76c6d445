/** The q-quantile (0–1) of samples, nearest-rank. */
export function quantile(samples, q) {
    if (samples.length === 0)
        return NaN;
    const sorted = [...samples].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}
export const round = (x, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;
export function flag(args, name, fallback) {
    const i = args.indexOf(`--${name}`);
    return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : fallback;
}
/** The median of samples (the mean of the middle two for an even count). */
export function median(samples) {
    if (samples.length === 0)
        return NaN;
    const sorted = [...samples].sort((a, b) => a - b);
    const mid = Math.floor(sorted.length / 2);
    return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
//# sourceMappingURL=stats.js.map