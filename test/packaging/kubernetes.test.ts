// The Kubernetes example (packaging/kubernetes/*.yaml), validated offline against the Kubernetes
// API schema (kubernetes-models' validators: types, required fields, enums, formats), and then
// against what the agent sidecar must be: its key generated into a memory emptyDir and never in a
// Secret, the enrollment token from a Secret, its labels from that token alone, non-root, read-only
// root filesystem, no capabilities, RuntimeDefault seccomp, memory sized from the measured RSS,
// probes on the agent's health port. Finally the manifest's own commands and environment are run
// (with the single executable, against a real vault) to show they do what the manifest means.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import { Secret } from 'kubernetes-models/v1/Secret';
import type { IContainer } from 'kubernetes-models/v1/Container';
import { assertHardenedPod, readManifests } from '../support/kubernetes-manifests.js';
import type { Manifest } from '../support/kubernetes-manifests.js';
import { AGENT_BINARY_HOOK_TIMEOUT_MS, agentBinary, REPO_ROOT } from '../support/agent-binary.js';
import { startVaultProcess } from '../support/vault-process.js';
import { jsonOf, startExecutable } from '../support/processes.js';
import type { RunningProcess } from '../support/processes.js';
import { freePort } from '../support/services.js';
import { waitFor } from '../support/wait.js';

const DIR = join(REPO_ROOT, 'packaging', 'kubernetes');

const manifests = (): Manifest[] => readManifests(DIR);

/** Throws with the schema's complaint when `doc` is not a valid object of its kind. */
function validate(doc: Manifest['doc']): void {
  const key = `${doc.apiVersion}/${doc.kind}`;
  if (key === 'apps/v1/Deployment') return new Deployment(doc as unknown as IDeployment).validate();
  if (key === 'v1/Secret') return new Secret(doc as ConstructorParameters<typeof Secret>[0]).validate();
  throw new Error(`no schema here for ${key}: add its model to this test`);
}

const deployment = (): IDeployment => (manifests().find((m) => m.doc.kind === 'Deployment') ?? assert.fail('no Deployment')).doc as unknown as IDeployment;

/** Kubernetes quantities in bytes (Mi, Gi, M, G, plain). */
function bytes(q: string | number | undefined): number {
  if (q === undefined) return NaN;
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|k|M|G)?$/.exec(String(q)) ?? assert.fail(`not a quantity: ${q}`);
  const unit = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, k: 1e3, M: 1e6, G: 1e9 }[m[2] as 'Ki'] ?? 1;
  return Number(m[1]) * unit;
}

test('every manifest is a valid Kubernetes object per the API schema', () => {
  const all = manifests();
  assert.deepEqual(all.map((m) => `${m.file}:${m.doc.kind}`).sort(), ['deployment.yaml:Deployment', 'enrollment-token-secret.yaml:Secret']);
  for (const m of all) assert.doesNotThrow(() => validate(m.doc), `${m.file}`);
});

test('the validator does reject a broken manifest (so the check above can fail)', () => {
  const broken = structuredClone(deployment()) as unknown as { spec: { template: { spec: { containers: Array<Record<string, unknown>> } } } };
  (broken.spec.template.spec.containers[0] as Record<string, unknown>).image = 42;
  assert.throws(() => validate(broken as unknown as Manifest['doc']), /image must be string/);
  const noSelector = structuredClone(deployment()) as unknown as { spec: Record<string, unknown> };
  delete noSelector.spec.selector;
  assert.throws(() => validate(noSelector as unknown as Manifest['doc']), /selector/);
});

test('the agent sidecar runs next to the app, non-root, read-only root filesystem, no capabilities, RuntimeDefault seccomp', () => {
  const pod = deployment().spec?.template.spec ?? assert.fail('no pod spec');
  const names = pod.containers.map((c) => c.name);
  assert.ok(names.includes('sikkerkey-agent') && names.length >= 2, `an app and the agent: ${names.join(', ')}`);
  assertHardenedPod(pod, 'the agent\'s pod');
});

test('the key is generated at start into a memory emptyDir; only the enrollment token comes from a Secret', () => {
  const pod = deployment().spec?.template.spec ?? assert.fail('no pod spec');
  const agent = pod.containers.find((c) => c.name === 'sikkerkey-agent') ?? assert.fail('no agent');
  const enroll = (pod.initContainers ?? []).find((c) => c.name === 'sikkerkey-enroll') ?? assert.fail('no enroll init container');
  const env = (c: IContainer, name: string): string | undefined => c.env?.find((e) => e.name === name)?.value;
  const keyFile = env(agent, 'SIKKERKEY_AGENT_KEY_FILE') ?? assert.fail('agent: no SIKKERKEY_AGENT_KEY_FILE');
  assert.equal(env(enroll, 'SIKKERKEY_AGENT_KEY_FILE'), keyFile, 'enroll writes the key where the agent reads it');
  const mountOf = (c: IContainer): { name: string; readOnly?: boolean } =>
    c.volumeMounts?.find((vm) => keyFile.startsWith(`${vm.mountPath}/`)) ?? assert.fail(`${c.name}: the key file is not on a mounted volume`);
  const keyVolume = pod.volumes?.find((v) => v.name === mountOf(agent).name) ?? assert.fail('no key volume');
  assert.equal(mountOf(enroll).name, keyVolume.name);
  assert.equal(keyVolume.emptyDir?.medium, 'Memory', 'the key volume is a memory-backed emptyDir');
  assert.equal(keyVolume.secret, undefined);
  assert.ok(bytes(keyVolume.emptyDir?.sizeLimit) <= 16 * 2 ** 20, 'a small sizeLimit');
  assert.equal(mountOf(agent).readOnly, true, 'the running agent only reads its key');
  // the enroll step: makes the key only when there is none, with the token from a Secret volume
  const script = [...(enroll.command ?? []), ...(enroll.args ?? [])].join(' ');
  assert.match(script, /test -s "\$SIKKERKEY_AGENT_KEY_FILE" \|\| exec \/usr\/local\/bin\/sikkerkey-agent enroll --token-file (\S+)/);
  const tokenPath = /--token-file (\S+)/.exec(script)?.[1] ?? '';
  const tokenMount = enroll.volumeMounts?.find((vm) => tokenPath.startsWith(`${vm.mountPath}/`)) ?? assert.fail('the token file is not mounted');
  const tokenVolume = pod.volumes?.find((v) => v.name === tokenMount.name);
  assert.equal(tokenVolume?.secret?.secretName, 'sikkerkey-enrollment');
  assert.equal(tokenVolume?.secret?.defaultMode, 0o400);
  assert.equal(tokenMount.readOnly, true);
  assert.equal(agent.volumeMounts?.some((vm) => vm.name === tokenMount.name), false, 'the long-running agent never sees the token');
  // no Secret anywhere holds a key
  for (const m of manifests().filter((x) => x.doc.kind === 'Secret')) {
    assert.doesNotMatch(JSON.stringify(m.doc), /PRIVATE KEY|agent\.key/, `${m.file} holds no key`);
  }
});

test('the agent is given no labels (the enrollment token gives them), and the health port carries liveness and readiness', () => {
  const d = deployment();
  const pod = d.spec?.template.spec ?? assert.fail('no pod spec');
  const agent = pod.containers.find((c) => c.name === 'sikkerkey-agent') ?? assert.fail('no agent');
  assert.equal(agent.env?.some((e) => e.name === 'SIKKERKEY_AGENT_LABELS'), false, 'the agent refuses SIKKERKEY_AGENT_LABELS');
  const listen = agent.env?.find((e) => e.name === 'SIKKERKEY_AGENT_HEALTH_LISTEN')?.value ?? assert.fail('no health listen address');
  const port = Number(/:(\d+)$/.exec(listen)?.[1]);
  const named = agent.ports?.find((p) => p.containerPort === port) ?? assert.fail(`port ${port} is not declared`);
  for (const [probe, want] of [[agent.livenessProbe, '/healthz'], [agent.readinessProbe, '/readyz']] as const) {
    assert.equal(probe?.httpGet?.path, want);
    assert.ok(probe?.httpGet?.port === named.name || probe?.httpGet?.port === port, `${want} on the health port`);
  }
});

test('memory requests and limits fit the RSS the README reports (request 64–128 MiB for 62–69 MiB idle; limit at least 1.5 × 104 MiB, the all-driver RSS)', () => {
  const pod = deployment().spec?.template.spec ?? assert.fail('no pod spec');
  for (const c of [...pod.containers, ...(pod.initContainers ?? [])].filter((x) => x.name.startsWith('sikkerkey'))) {
    const req = bytes(c.resources?.requests?.memory);
    const lim = bytes(c.resources?.limits?.memory);
    assert.ok(req >= 64 * 2 ** 20 && req <= 128 * 2 ** 20, `${c.name}: request ${c.resources?.requests?.memory} covers the idle and one-driver RSS`);
    assert.ok(lim >= 1.5 * 104 * 2 ** 20 && lim <= 512 * 2 ** 20, `${c.name}: limit ${c.resources?.limits?.memory} leaves room above the all-driver RSS`);
    assert.ok(c.resources?.requests?.cpu !== undefined && c.resources.limits?.cpu !== undefined, `${c.name}: a CPU request and limit`);
  }
});

// May build the agent executable first (5–25 s measured, bounded at 5 minutes by agentBinary()).
test('the manifest\'s own commands work: the init step enrolls once, the sidecar runs from its environment alone and answers its probes', { timeout: AGENT_BINARY_HOOK_TIMEOUT_MS }, async () => {
  const [{ path: bin }, vault] = await Promise.all([agentBinary(), startVaultProcess()]);
  const tmp = mkdtempSync(join(tmpdir(), 'sk-k8s-'));
  const started: RunningProcess[] = [];
  try {
    jsonOf(await vault.sk(['project', 'create', 'shop', '--json']));
    jsonOf(await vault.sk(['secret', 'set', 'shop', 'db-admin', '--fields-json', '{"host":"db","username":"admin","password":"x-not-used"}', '--json']));
    const token = jsonOf<{ token: string }>(await vault.sk(['enroll-token', 'create', '--project', 'shop', '--secret', 'db-admin', '--label', 'shop-db-rotator',
      '--machine-lifetime', '30d', '--name-template', '{hostname}', '--json'])).token;
    const d = deployment();
    const pod = d.spec?.template.spec ?? assert.fail('no pod spec');
    const podLabels = d.spec?.template.metadata?.labels ?? {};
    // each volume becomes a directory; the Secret volume holds the token as the kubelet would write it
    const volumeDir = (name: string): string => join(tmp, name);
    for (const v of pod.volumes ?? []) mkdirSync(volumeDir(v.name), { recursive: true, mode: 0o700 });
    const tokenVolume = pod.volumes?.find((v) => v.secret) ?? assert.fail('no Secret volume');
    writeFileSync(join(volumeDir(tokenVolume.name), 'token'), token, { mode: 0o400 });
    const healthPort = await freePort();
    /** The container's view mapped onto this machine: mount paths → the volume directories, the image's binary → the built one. */
    const localize = (c: IContainer, text: string): string => {
      let out = text.replaceAll('/usr/local/bin/sikkerkey-agent', bin).replaceAll('https://vault.example.com:8200', vault.url).replace(/0\.0\.0\.0:9464/, `127.0.0.1:${healthPort}`);
      for (const vm of c.volumeMounts ?? []) out = out.replaceAll(vm.mountPath, volumeDir(vm.name));
      return out;
    };
    const envOf = (c: IContainer): Record<string, string> => Object.fromEntries((c.env ?? []).map((e) => {
      const field = e.valueFrom?.fieldRef?.fieldPath;
      const value = field === 'metadata.name' ? 'shop-7d9c-x2x4z' : field ? podLabels[/\['([^']+)'\]/.exec(field)?.[1] ?? ''] ?? '' : e.value ?? '';
      return [e.name, localize(c, value)];
    }));
    const enroll = (pod.initContainers ?? []).find((c) => c.name === 'sikkerkey-enroll') ?? assert.fail('no init container');
    const [cmd, ...args] = [...(enroll.command ?? []), ...(enroll.args ?? [])].map((a) => localize(enroll, a));
    const runInit = (): ReturnType<typeof spawnSync> => spawnSync(cmd as string, args, { encoding: 'utf8', env: { PATH: '/usr/bin:/bin', ...envOf(enroll) } });
    const first = runInit();
    assert.equal(first.status, 0, String(first.stderr));
    const keyFile = envOf(enroll).SIKKERKEY_AGENT_KEY_FILE as string;
    assert.equal(statSync(keyFile).mode & 0o777, 0o600);
    const again = runInit();
    assert.equal(again.status, 0, `a re-run init step must not try to enroll again: ${String(again.stderr)}`);
    const machines = jsonOf<{ machines: Array<{ name: string; labels: string[] }> }>(await vault.sk(['machine', 'list', '--json']));
    assert.deepEqual(machines.machines.map((m) => [m.name, m.labels]), [['shop-7d9c-x2x4z', ['shop-db-rotator']]]);

    const sidecar = pod.containers.find((c) => c.name === 'sikkerkey-agent') ?? assert.fail('no agent container');
    const agent = startExecutable(bin, (sidecar.args ?? []).map((a) => localize(sidecar, a)), { env: { ...envOf(sidecar), SIKKERKEY_AGENT_POLL_WAIT_SECONDS: '1' }, label: 'sidecar' });
    started.push(agent);
    await agent.waitFor(/agent started/);
    const probe = async (path: string | undefined): Promise<number> => (await fetch(`http://127.0.0.1:${healthPort}${path ?? ''}`)).status;
    assert.equal(await probe(sidecar.livenessProbe?.httpGet?.path), 200);
    // ready once the vault answered its signed poll
    await waitFor(() => probe(sidecar.readinessProbe?.httpGet?.path), {
      what: 'the sidecar\'s readiness probe to answer 200', timeoutMs: 30_000, intervalMs: 200, until: (status) => status === 200, show: (status) => `HTTP ${status}`,
    });
  } finally {
    for (const p of started) await p.stop();
    await vault.close();
    rmSync(tmp, { recursive: true, force: true });
  }
});
