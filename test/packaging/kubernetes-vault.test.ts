// The vault server's Kubernetes manifests (packaging/kubernetes/vault/*.yaml), checked as the
// agent's are (kubernetes.test.ts): valid per the Kubernetes API schema (kubernetes-models), and
// then what N replicas on an external PostgreSQL must be — at least two, a PodDisruptionBudget and
// a Service selecting them, readiness on /readyz and liveness on /healthz, non-root, read-only root
// filesystem, no capabilities, no privilege escalation, RuntimeDefault seccomp; the root key from a
// Secret volume (mode 0400, read-only) passed with --root-key-file, the database URL from a
// Secret; a Job that migrates and replicas that never do. Finally the manifests' own commands run
// for real on a fresh PostgreSQL database: a replica refuses before the Job, the Job migrates, a
// replica then serves and both probe paths answer 200 over TLS.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import { Job } from 'kubernetes-models/batch/v1/Job';
import type { IJob } from 'kubernetes-models/batch/v1/Job';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import type { IPodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import type { IService } from 'kubernetes-models/v1/Service';
import type { IContainer } from 'kubernetes-models/v1/Container';
import { assertHardenedPod, readManifests } from '../support/kubernetes-manifests.js';
import type { Manifest } from '../support/kubernetes-manifests.js';
import { REPO_ROOT } from '../support/agent-binary.js';
import { jsonOf, runBin, startBin } from '../support/processes.js';
import { tempPgDatabase } from '../support/stores.js';
import { makeTestCa } from '../support/test-ca.js';
import { generateRootKey } from '../../vault-server/crypto/root-key.js';

const DIR = join(REPO_ROOT, 'packaging', 'kubernetes', 'vault');

const manifests = (): Manifest[] => readManifests(DIR);

function validate(doc: Manifest['doc']): void {
  const key = `${doc.apiVersion}/${doc.kind}`;
  if (key === 'apps/v1/Deployment') return new Deployment(doc as unknown as IDeployment).validate();
  if (key === 'batch/v1/Job') return new Job(doc as unknown as IJob).validate();
  if (key === 'policy/v1/PodDisruptionBudget') return new PodDisruptionBudget(doc as unknown as IPodDisruptionBudget).validate();
  if (key === 'v1/Service') return new Service(doc as unknown as IService).validate();
  if (key === 'v1/Secret') return new Secret(doc as ConstructorParameters<typeof Secret>[0]).validate();
  throw new Error(`no schema here for ${key}: add its model to this test`);
}

const one = <T>(kind: string): T => {
  const found = manifests().filter((m) => m.doc.kind === kind);
  assert.equal(found.length, 1, `one ${kind}`);
  return (found[0] as Manifest).doc as unknown as T;
};
const deployment = (): IDeployment => one<IDeployment>('Deployment');
const job = (): IJob => one<IJob>('Job');
const vaultContainer = (): IContainer => (deployment().spec?.template.spec?.containers ?? []).find((c) => c.name === 'vault') ?? assert.fail('no vault container');
const podLabels = (): Record<string, string> => deployment().spec?.template.metadata?.labels ?? {};
const selects = (selector: Record<string, string> | undefined, labels: Record<string, string>): boolean =>
  selector !== undefined && Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels[k] === v);

test('every manifest is a valid Kubernetes object per the API schema', () => {
  const all = manifests();
  assert.deepEqual(all.map((m) => `${m.file}:${m.doc.kind}`).sort(),
    ['deployment.yaml:Deployment', 'migrate-job.yaml:Job', 'pdb.yaml:PodDisruptionBudget', 'secrets.yaml:Secret', 'secrets.yaml:Secret', 'service.yaml:Service']);
  for (const m of all) assert.doesNotThrow(() => validate(m.doc), m.file);
});

test('the validator does reject broken manifests (so the check above can fail)', () => {
  const broken = structuredClone(deployment()) as unknown as { spec: { template: { spec: { containers: Array<Record<string, unknown>> } } } };
  (broken.spec.template.spec.containers[0] as Record<string, unknown>).image = 42;
  assert.throws(() => validate(broken as unknown as Manifest['doc']), /image must be string/);
  const pdb = structuredClone(one<IPodDisruptionBudget>('PodDisruptionBudget')) as unknown as { spec: Record<string, unknown> };
  pdb.spec.minAvailable = { not: 'a number' };
  assert.throws(() => validate(pdb as unknown as Manifest['doc']));
});

test('at least two replicas; the PodDisruptionBudget and the Service select exactly the replicas; rolling updates keep every replica until its successor is ready', () => {
  const d = deployment();
  const replicas = d.spec?.replicas ?? 1;
  assert.ok(replicas >= 2, `replicas ${replicas}`);
  assert.ok(selects(d.spec?.selector.matchLabels, podLabels()), 'the Deployment selects its pods');
  const pdb = one<IPodDisruptionBudget>('PodDisruptionBudget');
  assert.ok(selects(pdb.spec?.selector?.matchLabels, podLabels()), 'the PDB selects the replicas');
  assert.equal(selects(pdb.spec?.selector?.matchLabels, job().spec?.template.metadata?.labels ?? {}), false, 'not the migration Job');
  const min = Number(pdb.spec?.minAvailable ?? 0);
  assert.ok(min >= 1 && min < replicas, `minAvailable ${min} of ${replicas}: a drain may proceed, one replica at a time`);
  const svc = one<IService>('Service');
  assert.ok(selects(svc.spec?.selector, podLabels()), 'the Service selects the replicas');
  assert.equal(selects(svc.spec?.selector, job().spec?.template.metadata?.labels ?? {}), false, 'not the migration Job');
  const ports = vaultContainer().ports ?? [];
  for (const p of svc.spec?.ports ?? []) assert.ok(ports.some((c) => c.name === p.targetPort || c.containerPort === p.targetPort), `target ${p.targetPort} is a container port`);
  assert.equal(d.spec?.strategy?.rollingUpdate?.maxUnavailable, 0);
});

test('readiness on /readyz, liveness on /healthz, both on the vault\'s port', () => {
  const c = vaultContainer();
  const port = c.ports?.[0] ?? assert.fail('no port');
  assert.equal(c.readinessProbe?.httpGet?.path, '/readyz');
  assert.equal(c.livenessProbe?.httpGet?.path, '/healthz');
  for (const probe of [c.readinessProbe, c.livenessProbe]) {
    assert.ok(probe?.httpGet?.port === port.name || probe?.httpGet?.port === port.containerPort);
    assert.equal(probe?.httpGet?.scheme, 'HTTPS', 'the vault serves TLS (SIKKERKEY_VAULT_TLS_CERT)');
  }
});

test('every container (replicas and the Job) non-root, read-only root filesystem, no capabilities, no privilege escalation, RuntimeDefault seccomp, no API token', () => {
  for (const [what, pod] of [['Deployment', deployment().spec?.template.spec], ['Job', job().spec?.template.spec]] as const) {
    assertHardenedPod(pod ?? assert.fail(`${what}: no pod spec`), what);
  }
});

test('the root key from a Secret volume (0400, read-only) named by --root-key-file; the database URL from a Secret; no secret value anywhere in the pod spec', () => {
  const pod = deployment().spec?.template.spec ?? assert.fail('no pod spec');
  const c = vaultContainer();
  const args = c.args ?? [];
  const keyFiles = args.flatMap((a, i) => (a === '--root-key-file' ? [args[i + 1] as string] : []));
  assert.ok(keyFiles.length >= 1 && keyFiles.length <= 2, `--root-key-file once or twice: ${keyFiles.join(', ')}`);
  for (const file of keyFiles) {
    const mount = c.volumeMounts?.find((vm) => file.startsWith(`${vm.mountPath}/`)) ?? assert.fail(`${file} is not on a mounted volume`);
    assert.equal(mount.readOnly, true, `${file}: mounted read-only`);
    const volume = pod.volumes?.find((v) => v.name === mount.name) ?? assert.fail('no volume');
    assert.ok(volume.secret, `${file}: from a Secret`);
    assert.equal(volume.secret?.defaultMode, 0o400, `${file}: mode 0400`);
    const item = file.slice(mount.mountPath.length + 1);
    assert.ok(volume.secret?.items?.some((it) => it.path === item), `${item} is an item of the Secret`);
  }
  const env = (name: string): NonNullable<IContainer['env']>[number] | undefined => c.env?.find((e) => e.name === name);
  assert.equal(env('SIKKERKEY_VAULT_DATABASE_URL')?.valueFrom?.secretKeyRef?.name, 'sikkerkey-vault-database');
  assert.equal(env('SIKKERKEY_VAULT_DATABASE_URL')?.value, undefined);
  assert.equal(env('SIKKERKEY_ROOT_KEY'), undefined, 'the root key is never in the environment');
  assert.equal(job().spec?.template.spec?.containers[0]?.env?.find((e) => e.name === 'SIKKERKEY_VAULT_DATABASE_URL')?.valueFrom?.secretKeyRef?.name, 'sikkerkey-vault-database');
  assert.doesNotMatch(JSON.stringify(deployment()) + JSON.stringify(job()), /postgres:\/\/|PRIVATE KEY/, 'no URL or key written into a pod spec');
});

test('the Job migrates; replicas never do (no migrate command in the Deployment)', () => {
  const jobPod = job().spec?.template.spec ?? assert.fail('no Job pod');
  assert.deepEqual(jobPod.containers.map((c) => c.args), [['migrate']]);
  assert.equal(jobPod.restartPolicy, 'Never');
  assert.equal(jobPod.volumes, undefined, 'the Job needs no root key');
  const pod = deployment().spec?.template.spec ?? assert.fail('no pod spec');
  for (const c of [...pod.containers, ...(pod.initContainers ?? [])]) assert.equal([...(c.command ?? []), ...(c.args ?? [])].includes('migrate'), false, c.name);
  assert.equal(vaultContainer().args?.[0], 'serve');
});

const work = mkdtempSync(join(tmpdir(), 'sk-k8s-vault-'));
const cleanups: Array<() => Promise<void> | void> = [() => rmSync(work, { recursive: true, force: true })];
after(async () => { for (const c of cleanups.reverse()) await c(); });

test('the manifests\' commands on a fresh PostgreSQL: a replica refuses before the Job, the Job migrates, then a replica serves and /readyz and /healthz answer 200 over TLS', { timeout: 120_000 }, async () => {
  const pg = await tempPgDatabase();
  cleanups.push(pg.remove);
  const ca = makeTestCa();
  cleanups.push(() => ca.cleanup());
  const cert = ca.issue();
  // The container's files, as the kubelet mounts them: /etc/sikkerkey/… under a temporary root.
  const etc = join(work, 'etc-sikkerkey');
  mkdirSync(join(etc, 'root-key'), { recursive: true });
  mkdirSync(join(etc, 'tls'), { recursive: true });
  writeFileSync(join(etc, 'tls', 'tls.crt'), cert.cert);
  writeFileSync(join(etc, 'tls', 'tls.key'), cert.key, { mode: 0o400 });
  const secretValue = { 'sikkerkey-vault-database/url': pg.location.databaseUrl };
  const envOf = (c: IContainer): NodeJS.ProcessEnv => Object.fromEntries((c.env ?? []).map((e) => {
    const ref = e.valueFrom?.secretKeyRef;
    const value = ref ? secretValue[`${ref.name}/${ref.key}` as keyof typeof secretValue] : e.value;
    // the pod's 0.0.0.0:8200 would collide with other tests here: any free loopback port
    const local = e.name === 'SIKKERKEY_VAULT_LISTEN' ? '127.0.0.1:0' : value?.replace('/etc/sikkerkey', etc);
    return [e.name, local ?? ''];
  }));
  const replica = vaultContainer();
  const replicaArgs = (replica.args ?? []).map((a) => a.replace('/etc/sikkerkey', etc));

  // (any key: the schema is checked before the key is)
  for (const item of ['root-key', 'root-key-next']) writeFileSync(join(etc, 'root-key', item), generateRootKey().toString('base64'), { mode: 0o600 });
  const early = await runBin('sikkerkey-vault', replicaArgs, { env: envOf(replica), timeoutMs: 30_000 });
  assert.notEqual(early.code, 0);
  assert.match(early.stderr, /SK_ERR_STORE_SCHEMA/, 'a replica never migrates: it refuses a store with pending migrations');

  const migrate = job().spec?.template.spec?.containers[0] ?? assert.fail('no Job container');
  const migrated = await runBin('sikkerkey-vault', [...(migrate.args ?? []), '--json'], { env: envOf(migrate), timeoutMs: 60_000 });
  assert.equal(migrated.code, 0, migrated.stderr);
  assert.ok(jsonOf<{ applied: string[] }>(migrated).applied.length > 0);

  const op = jsonOf<{ publicKey: string }>(await runBin('sikkerkey', ['keygen', '--out', join(work, 'operator.key'), '--json']));
  const init = jsonOf<{ rootKey: string }>(await runBin('sikkerkey-vault', ['init', '--database-url', pg.location.databaseUrl, '--operator-public-key', op.publicKey, '--json']));
  for (const item of ['root-key', 'root-key-next']) writeFileSync(join(etc, 'root-key', item), init.rootKey, { mode: 0o600 });

  const vault = startBin('sikkerkey-vault', replicaArgs, { env: envOf(replica) });
  cleanups.push(async () => { await vault.stop('SIGKILL'); });
  const port = Number((await vault.waitFor(/"url":"https:\/\/[^"]*:(\d+)"/))[1]);
  const caPem = readFileSync(ca.caFile, 'utf8');
  const get = (path: string): Promise<number> => new Promise((resolve, reject) => {
    https.get({ host: '127.0.0.1', port, path, ca: caPem, agent: false }, (res) => { res.resume(); resolve(res.statusCode ?? 0); }).on('error', reject);
  });
  const c = vaultContainer();
  assert.equal(await get(c.readinessProbe?.httpGet?.path ?? ''), 200);
  assert.equal(await get(c.livenessProbe?.httpGet?.path ?? ''), 200);
  assert.equal(vault.output().includes(init.rootKey), false, 'the root key is never logged');
});
