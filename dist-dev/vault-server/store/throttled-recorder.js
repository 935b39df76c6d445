export function throttledRecorder(ctx, intervalMs, what, write) {
    const written = new Map();
    return (id) => {
        const now = ctx.now();
        if ((written.get(id) ?? 0) + intervalMs > now)
            return;
        if (written.size > 100_000)
            written.clear();
        written.set(id, now);
        write(id, now).catch((err) => ctx.log.warn({ err: err instanceof Error ? err.message : String(err) }, `could not record ${what}`));
    };
}
//# sourceMappingURL=throttled-recorder.js.map