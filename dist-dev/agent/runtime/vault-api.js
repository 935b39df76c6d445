import { encodePathSegment as enc } from '../../protocol/client.js';
export function agentVault(client) {
    const step = async (id, what, body) => (await client.request('POST', `/v1/agent/rotations/${enc(id)}/${what}`, body)).body;
    return {
        poll: async (waitSeconds, signal) => {
            const res = await client.request('GET', `/v1/agent/rotations?wait=${waitSeconds}`, undefined, {
                ...(signal ? { signal } : {}), timeoutMs: (waitSeconds + 15) * 1000,
            });
            return res.status === 204 || !res.body ? [] : res.body.jobs;
        },
        claim: (id) => step(id, 'claim', undefined),
        heartbeat: (id, fence) => step(id, 'heartbeat', { fence }),
        applied: (id, fence) => step(id, 'applied', { fence }),
        confirm: (id, fence) => step(id, 'confirm', { fence }),
        fail: (id, body) => step(id, 'fail', body),
        preflight: (id, body) => step(id, 'preflight', body),
    };
}
//# sourceMappingURL=vault-api.js.map