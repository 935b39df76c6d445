// The vault image's HEALTHCHECK (Containerfile): GET /readyz on the vault in this container —
// 200 only when the store answers, the migrations are current and the root key opens the store.
// Exit 0 when ready, 1 otherwise. The address comes from SIKKERKEY_VAULT_LISTEN (the image sets
// it) and TLS from SIKKERKEY_VAULT_TLS_CERT being set, as `serve` reads them.
import http from 'node:http';
import https from 'node:https';

const listen = process.env.SIKKERKEY_VAULT_LISTEN || '127.0.0.1:8200';
const port = Number(/:(\d+)$/.exec(listen)?.[1] ?? 8200);
const tls = Boolean(process.env.SIKKERKEY_VAULT_TLS_CERT);
// Loopback to this container's own vault: its certificate names the public host, not 127.0.0.1,
// and what is checked here is readiness, not identity (nothing secret is sent or received).
const req = (tls ? https : http).get({ host: '127.0.0.1', port, path: '/readyz', timeout: 4000, ...(tls ? { rejectUnauthorized: false } : {}) }, (res) => {
  res.resume();
  process.exit(res.statusCode === 200 ? 0 : 1);
});
req.on('timeout', () => req.destroy(new Error('no answer within 4 s')));
req.on('error', (err) => {
  process.stderr.write(`vault not ready: ${err.message}\n`);
  process.exit(1);
});
