// The Kubernetes delivery example (packaging/kubernetes/delivery/*.yaml): valid against the
// Kubernetes API schema offline (kubernetes-models), and what the example says it is — an init
// container that renders once before the app starts, a sidecar that keeps rendering, the files
// on a memory emptyDir the app mounts read-only, and an agent config that the agent itself loads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import type { IConfigMap } from 'kubernetes-models/v1/ConfigMap';
import type { IContainer } from 'kubernetes-models/v1/Container';
import { REPO_ROOT } from '../support/agent-binary.js';
import { readManifests } from '../support/kubernetes-manifests.js';
import { loadAgentConfig } from '../../agent/config.js';

const DIR = join(REPO_ROOT, 'packaging', 'kubernetes', 'delivery');
const docs = readManifests(DIR).map((m) => m.doc);
const deployment = docs.find((d) => d.kind === 'Deployment') as unknown as IDeployment;
const configMap = docs.find((d) => d.kind === 'ConfigMap') as unknown as IConfigMap;

test('the delivery example is a valid ConfigMap and Deployment', () => {
  assert.ok(deployment && configMap);
  new Deployment(deployment).validate();
  new ConfigMap(configMap).validate();
});

test('an init container renders once, a sidecar keeps rendering, into a memory emptyDir the app mounts read-only', () => {
  const spec = deployment.spec?.template.spec;
  assert.ok(spec);
  const files = spec.volumes?.find((v) => v.name === 'secret-files');
  assert.equal(files?.emptyDir?.medium, 'Memory', 'rendered files never touch the node\'s disk');
  const inits = spec.initContainers ?? [];
  const once = inits.find((c) => c.args?.[0] === 'render') as IContainer;
  assert.deepEqual(once.args?.slice(0, 2), ['render', '--once']);
  assert.ok(inits.findIndex((c) => c === once) > inits.findIndex((c) => c.name === 'sikkerkey-enroll'), 'it renders after the key is enrolled');
  const sidecar = spec.containers.find((c) => c.args?.[0] === 'render') as IContainer;
  assert.ok(sidecar && !sidecar.args?.includes('--once'), 'the sidecar follows (no --once)');
  const app = spec.containers.find((c) => c.name === 'app') as IContainer;
  const appMount = app.volumeMounts?.find((m) => m.name === 'secret-files');
  assert.equal(appMount?.readOnly, true);
  assert.equal(app.volumeMounts?.some((m) => m.name === 'agent-key'), false, 'the app never sees the machine key');
  for (const c of [once, sidecar, app]) {
    assert.equal(c.securityContext?.readOnlyRootFilesystem, true, c.name);
    assert.deepEqual(c.securityContext?.capabilities?.drop, ['ALL'], c.name);
  }
});

test('the ConfigMap\'s agent config loads in the agent, with the pod\'s environment, and renders where the app reads', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sk-k8s-delivery-'));
  try {
    const file = join(dir, 'agent.yaml');
    writeFileSync(file, configMap.data?.['agent.yaml'] ?? '');
    const sidecar = deployment.spec?.template.spec?.containers.find((c) => c.args?.[0] === 'render') as IContainer;
    const env = Object.fromEntries((sidecar.env ?? []).map((e) => [e.name, e.value ?? '']));
    const config = loadAgentConfig(file, env);
    assert.equal(config.vaultUrl, 'https://vault.example.com:8200');
    const mount = sidecar.volumeMounts?.find((m) => m.name === 'secret-files')?.mountPath as string;
    assert.ok(config.templates.length >= 1);
    for (const t of config.templates) {
      assert.ok(t.destination.startsWith(`${mount}/`), `${t.destination} is on the shared volume`);
      assert.equal(t.mode, 0o600);
    }
    const app = deployment.spec?.template.spec?.containers.find((c) => c.name === 'app') as IContainer;
    const read = app.env?.find((e) => e.name === 'DB_CONFIG_FILE')?.value;
    assert.ok(config.templates.some((t) => t.destination === read), 'the file the app is told to read is rendered');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
