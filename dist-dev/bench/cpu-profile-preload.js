// Preloaded into a process (NODE_OPTIONS=--import …/cpu-profile-preload.js, with
// SK_CPU_PROFILE_OUT=FILE) to profile its CPU: the V8 sampling profiler runs from start-up, and
// SIGUSR2 writes the profile (a Chrome .cpuprofile) to FILE. Node 20 refuses --cpu-prof in
// NODE_OPTIONS, and a process killed by the harness never writes one on exit.
import { Session } from 'node:inspector';
import { writeFileSync } from 'node:fs';
const out = process.env.SK_CPU_PROFILE_OUT;
if (out) {
    const session = new Session();
    session.connect();
    session.post('Profiler.enable', () => session.post('Profiler.start'));
    process.on('SIGUSR2', () => {
        session.post('Profiler.stop', (err, res) => {
            if (!err)
                writeFileSync(out, JSON.stringify(res.profile));
        });
    });
}
//# sourceMappingURL=cpu-profile-preload.js.map