import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { PATH_METADATA } from '@nestjs/common/constants';
import { QueueKeys } from 'bullmq';
import { HealthController } from '../../apps/api/src/health/health.controller';
import { loadConfig } from '@mailpush/config';
import { envSchema } from '@mailpush/config/config.schema';
import { QueueName } from '@mailpush/queue';
import { DEFAULT_OPS_PORTS, OPS_PATHS, type OpsRole } from '@mailpush/runtime';
import { makeAdminToken, makeApnsKey, makeMasterKey } from '../support/factories';
import { schemaProblems, unknownFieldProblems } from './k8s-types';
import { K8S_DIR, find, findGenerated, kustomize, type K8sObject } from './kustomize';

interface EnvVar {
  name: string;
  value?: string;
}
interface EnvFrom {
  configMapRef?: { name: string };
  secretRef?: { name: string };
}
interface Probe {
  httpGet?: { path: string; port: string | number };
}
interface Container {
  name: string;
  image: string;
  command?: string[];
  env?: EnvVar[];
  envFrom?: EnvFrom[];
  ports?: { name?: string; containerPort: number }[];
  startupProbe?: Probe;
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  volumeMounts?: { name: string; mountPath: string }[];
}
interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  volumes?: { name: string; secret?: { secretName: string } }[];
}
interface Deployment extends K8sObject {
  spec: { replicas?: number; template: { spec: PodSpec } };
}

const OVERLAYS = ['dev', 'production'] as const;
type Overlay = (typeof OVERLAYS)[number];
const builds = new Map<Overlay, K8sObject[]>(OVERLAYS.map((o) => [o, kustomize(join(K8S_DIR, 'overlays', o))]));
const build = (o: Overlay): K8sObject[] => builds.get(o) ?? [];

const deployments = (objects: K8sObject[]): Deployment[] =>
  objects.filter((o): o is Deployment => o.kind === 'Deployment');

/** The role a container runs, from its command (`node dist/apps/<role>/src/main.js`). */
function roleOf(c: Container): OpsRole | 'tool' {
  const script = c.command?.find((part) => part.startsWith('dist/apps/')) ?? '';
  const m = /^dist\/apps\/(api|worker|dispatcher|all|tools)\//.exec(script);
  assert.ok(m, `container ${c.name} does not run a mailpush entrypoint: ${JSON.stringify(c.command)}`);
  // The image runs the build output from /app, as this checkout's dist/ (tsconfig.build.json).
  assert.ok(existsSync(join(K8S_DIR, '../..', script)), `${c.name}: ${script} is not built`);
  return m[1] === 'tools' ? 'tool' : (m[1] as OpsRole);
}

function stringData(o: K8sObject): Record<string, string> {
  const data = (o.data ?? {}) as Record<string, string>;
  return o.kind === 'Secret'
    ? Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]))
    : data;
}

/** The production overlay's Secrets come from outside git: their keys are those its example lists. */
function externalSecretKeys(): string[] {
  const text = readFileSync(join(K8S_DIR, 'overlays/production/secrets.example.env'), 'utf8');
  return text
    .split('\n')
    .filter((l) => /^[A-Z][A-Z0-9_]*=/.test(l))
    .map((l) => l.slice(0, l.indexOf('=')));
}

/** Valid stand-ins for the external Secret's values (the example holds placeholders on purpose). */
function standIn(key: string): string {
  switch (key) {
    case 'MAILPUSH_MASTER_KEY':
      return makeMasterKey();
    case 'MAILPUSH_ADMIN_TOKEN':
      return makeAdminToken();
    case 'REDIS_URL':
      return 'redis://:secret@redis.example.internal:6379';
    default:
      throw new Error(`secrets.example.env lists ${key}: give this spec a valid stand-in for it`);
  }
}

/** What the container's process sees: envFrom sources in order, then `env` (Kubernetes' precedence). */
function effectiveEnv(objects: K8sObject[], c: Container, overlay: Overlay): Record<string, string> {
  const env: Record<string, string> = {};
  for (const from of c.envFrom ?? []) {
    if (from.configMapRef) {
      const cm = findGenerated(objects, 'ConfigMap', from.configMapRef.name);
      assert.ok(cm, `${c.name}: ConfigMap ${from.configMapRef.name} is not in the build`);
      Object.assign(env, stringData(cm));
    }
    if (from.secretRef) {
      const secret = findGenerated(objects, 'Secret', from.secretRef.name);
      if (secret) Object.assign(env, stringData(secret));
      else {
        assert.equal(overlay, 'production', `${c.name}: Secret ${from.secretRef.name} is not in the ${overlay} build`);
        assert.equal(from.secretRef.name, 'mailpush-secrets', 'the only Secret created outside git');
        for (const key of externalSecretKeys()) env[key] = standIn(key);
      }
    }
  }
  for (const v of c.env ?? []) {
    assert.ok(v.value !== undefined, `${c.name}: ${v.name} has no literal value`);
    env[v.name] = v.value;
  }
  return env;
}

/** Files named by the env (APNs key, FCM account) must sit in a mounted Secret: stand-ins for them. */
function withStandInFiles(env: Record<string, string>, c: Container, pod: PodSpec): Record<string, string> {
  const mounted = (c.volumeMounts ?? []).filter((m) => pod.volumes?.find((v) => v.name === m.name)?.secret);
  const out = { ...env };
  const dir = mkdtempSync(join(tmpdir(), 'mailpush-k8s-files-'));
  for (const key of ['APNS_KEY_FILE', 'FCM_SERVICE_ACCOUNT_FILE'] as const) {
    const path = env[key];
    if (!path) continue;
    assert.ok(
      mounted.some((m) => path.startsWith(`${m.mountPath}/`)),
      `${c.name}: ${key}=${path} is not inside a mounted Secret`,
    );
    const local = join(dir, key);
    if (key === 'APNS_KEY_FILE') writeFileSync(local, readFileSync(makeApnsKey().keyFile));
    else writeFileSync(local, JSON.stringify({ project_id: 'p-1234', client_email: 'a@b.c', private_key: 'k' }));
    out[key] = local;
  }
  return out;
}

describe('Kubernetes manifests (kubectl kustomize, offline)', () => {
  for (const overlay of OVERLAYS) {
    it(`${overlay}: every object validates against its Kubernetes or CRD schema`, async () => {
      assert.deepEqual(await schemaProblems(build(overlay)), []);
    });

    it(`${overlay}: no object has a field its API does not know`, () => {
      assert.deepEqual(unknownFieldProblems(build(overlay)), []);
    });

    it(`${overlay}: every variable a container gets is in the config schema, and the config loads`, () => {
      const known = new Set<string>(Object.keys(envSchema.shape));
      const objects = build(overlay);
      for (const d of deployments(objects)) {
        const pod = d.spec.template.spec;
        for (const c of [...(pod.initContainers ?? []), ...pod.containers]) {
          const env = effectiveEnv(objects, c, overlay);
          const unknown = Object.keys(env).filter((k) => !known.has(k));
          assert.deepEqual(unknown, [], `${d.metadata.name}/${c.name}: variables the config schema does not have`);
          assert.ok(env.REDIS_URL, `${d.metadata.name}/${c.name}: REDIS_URL is not set (the default is localhost)`);
          assert.doesNotThrow(() => loadConfig(withStandInFiles(env, c, pod)), `${d.metadata.name}/${c.name}`);
        }
      }
    });

    it(`${overlay}: probes point at paths and ports the roles serve; liveness never asks Redis`, () => {
      const objects = build(overlay);
      const apiPaths = ['healthz', 'readyz'].map((m) => {
        const handler = HealthController.prototype[m as 'healthz' | 'readyz'];
        return `/${String(Reflect.getMetadata(PATH_METADATA, handler))}`;
      });
      for (const d of deployments(objects)) {
        for (const c of d.spec.template.spec.containers) {
          const role = roleOf(c);
          assert.notEqual(role, 'tool');
          if (role === 'tool') continue;
          const config = loadConfig(withStandInFiles(effectiveEnv(objects, c, overlay), c, d.spec.template.spec));
          const served = new Map<number, string[]>([
            [config.opsPort ?? DEFAULT_OPS_PORTS[role], [OPS_PATHS.health, OPS_PATHS.ready, OPS_PATHS.metrics]],
          ]);
          if (role === 'api') served.set(config.http.port, apiPaths);
          const ops = c.ports?.find((p) => p.name === 'ops');
          assert.equal(ops?.containerPort, config.opsPort ?? DEFAULT_OPS_PORTS[role], `${c.name}: ops port`);
          for (const [kind, probe] of [
            ['startup', c.startupProbe],
            ['liveness', c.livenessProbe],
            ['readiness', c.readinessProbe],
          ] as const) {
            const get = probe?.httpGet;
            assert.ok(get, `${c.name}: no ${kind} probe`);
            const port =
              typeof get.port === 'number' ? get.port : c.ports?.find((p) => p.name === get.port)?.containerPort;
            assert.ok(port !== undefined, `${c.name}: ${kind} probe port ${get.port} is not a container port`);
            assert.ok(served.get(port)?.includes(get.path), `${c.name}: nothing serves ${get.path} on ${port}`);
            assert.equal(get.path, kind === 'readiness' ? OPS_PATHS.ready : OPS_PATHS.health, `${c.name} ${kind}`);
          }
        }
      }
    });

    it(`${overlay}: a config change gets a new ConfigMap name, so the pods roll`, () => {
      const copy = mkdtempSync(join(tmpdir(), 'mailpush-k8s-'));
      try {
        cpSync(K8S_DIR, copy, { recursive: true });
        const configEnv = join(copy, 'base/config.env');
        const changed = readFileSync(configEnv, 'utf8').replace(
          /^MAILPUSH_DELIVERY_ATTEMPTS=.*$/m,
          'MAILPUSH_DELIVERY_ATTEMPTS=9',
        );
        assert.match(changed, /^MAILPUSH_DELIVERY_ATTEMPTS=9$/m);
        writeFileSync(configEnv, changed);
        const refs = (objects: K8sObject[]) =>
          deployments(objects).map((d) =>
            (d.spec.template.spec.containers[0]?.envFrom ?? []).map((f) => f.configMapRef?.name).filter(Boolean),
          );
        const before = refs(build(overlay));
        const after = refs(kustomize(join(copy, 'overlays', overlay)));
        for (const [i, names] of before.entries()) {
          assert.match(names[0] ?? '', /^mailpush-config-[a-z0-9]{10}$/);
          assert.notEqual(after[i]?.[0], names[0], 'the changed ConfigMap must get a new name');
          assert.equal(after[i]?.[1], names[1], 'an unchanged ConfigMap keeps its name');
        }
      } finally {
        rmSync(copy, { recursive: true, force: true });
      }
    });

    it(`${overlay}: the api is the only role with ingress; egress is DNS, Redis and the role's own ports`, () => {
      const objects = build(overlay);
      type Rule = { from?: unknown[]; ports?: { port: string | number; protocol: string }[] };
      const policy = (name: string) =>
        find(objects, 'NetworkPolicy', name) as K8sObject & { spec: { ingress?: Rule[]; egress?: Rule[] } };
      const monitoringOnly = (rules: Rule[]) =>
        rules.every((r) => JSON.stringify(r.from).includes('"kubernetes.io/metadata.name":"monitoring"'));
      const ports = (rules: Rule[]) =>
        rules.flatMap((r) => (r.ports ?? []).map((p) => `${p.port}/${p.protocol}`)).sort();
      const deny = find(objects, 'NetworkPolicy', 'mailpush-default-deny') as K8sObject & { spec: object };
      assert.deepEqual(deny.spec, {
        podSelector: { matchLabels: { 'app.kubernetes.io/name': 'mailpush' } },
        policyTypes: ['Ingress', 'Egress'],
      });
      const api = policy('mailpush-api').spec;
      assert.ok(api.ingress?.some((r) => r.from === undefined && ports([r]).join() === 'http/TCP'));
      for (const role of ['worker', 'dispatcher']) {
        const ingress = policy(`mailpush-${role}`).spec.ingress ?? [];
        assert.ok(monitoringOnly(ingress), `${role}: ingress from the monitoring namespace only`);
        assert.deepEqual(ports(ingress), ['ops/TCP']);
      }
      const dns = ['53/TCP', '53/UDP'];
      assert.deepEqual(
        ports(policy('mailpush-api').spec.egress ?? []),
        [...['143/TCP', '443/TCP', '6379/TCP', '993/TCP'], ...dns].sort(),
      );
      assert.deepEqual(
        ports(policy('mailpush-worker').spec.egress ?? []),
        [...['143/TCP', '443/TCP', '6379/TCP', '993/TCP'], ...dns].sort(),
      );
      assert.deepEqual(
        ports(policy('mailpush-dispatcher').spec.egress ?? []),
        [...['443/TCP', '6379/TCP'], ...dns].sort(),
      );
    });
  }

  it('dev: a Redis with AOF and noeviction, and the roles pointed at it', () => {
    const objects = build('dev');
    const redisConf = stringData(find(objects, 'ConfigMap', 'mailpush-redis-config'))['redis.conf'] ?? '';
    assert.match(redisConf, /^appendonly yes$/m);
    assert.match(redisConf, /^maxmemory-policy noeviction$/m);
    assert.match(redisConf, /^maxmemory \d+mb$/m);
    const sts = find(objects, 'StatefulSet', 'mailpush-redis') as K8sObject & {
      spec: { volumeClaimTemplates?: unknown[]; template: { spec: { containers: Container[] } } };
    };
    assert.equal(sts.spec.volumeClaimTemplates?.length, 1, 'Redis data on a PersistentVolumeClaim');
    const url = new URL(
      stringData(findGenerated(objects, 'ConfigMap', 'mailpush-config') ?? find(objects, 'x', 'x')).REDIS_URL ?? '',
    );
    const svc = find(objects, 'Service', url.hostname) as K8sObject & { spec: { ports: { port: number }[] } };
    assert.equal(svc.spec.ports[0]?.port, Number(url.port));
    assert.ok(findGenerated(objects, 'Secret', 'mailpush-secrets'), 'dev secrets are generated');
    for (const d of deployments(objects)) {
      const init = d.spec.template.spec.initContainers?.[0];
      assert.equal(init && roleOf(init), 'tool', `${d.metadata.name}: waits for Redis before starting`);
      assert.ok(init?.command?.includes('dist/apps/tools/src/wait-for-redis.js'));
    }
    assert.ok(!objects.some((o) => o.kind === 'ScaledObject' || o.kind === 'PrometheusRule'), 'no CRDs in dev');
  });

  it('production: image pinned by digest, no Secret in git, requests and limits everywhere', () => {
    const objects = build('production');
    assert.ok(!objects.some((o) => o.kind === 'Secret'), 'production Secrets are created outside git');
    for (const d of deployments(objects)) {
      const pod = d.spec.template.spec;
      for (const c of [...(pod.initContainers ?? []), ...pod.containers]) {
        assert.match(c.image, /^[^:@]+(:\d+)?\/[^@]+@sha256:[0-9a-f]{64}$/, `${d.metadata.name}/${c.name}`);
        assert.ok(c.resources?.requests?.cpu && c.resources.requests.memory, `${c.name}: requests`);
        assert.ok(c.resources.limits?.memory, `${c.name}: memory limit`);
      }
    }
  });

  it('production: dispatchers scale on both wait lists under the configured prefix and on CPU; workers on accounts, slowly down', () => {
    const objects = build('production');
    const prefix =
      stringData(findGenerated(objects, 'ConfigMap', 'mailpush-config') ?? find(objects, 'x', 'x'))
        .MAILPUSH_QUEUE_PREFIX ?? 'mailpush';
    type Trigger = { type: string; metadata: Record<string, string> };
    type Scaled = K8sObject & {
      spec: {
        scaleTargetRef: { name: string };
        triggers: Trigger[];
        advanced?: {
          horizontalPodAutoscalerConfig?: { behavior?: { scaleDown?: { stabilizationWindowSeconds?: number } } };
        };
      };
    };
    const dispatcher = find(objects, 'ScaledObject', 'mailpush-dispatcher') as Scaled;
    const keys = new QueueKeys(prefix);
    assert.deepEqual(
      dispatcher.spec.triggers
        .filter((t) => t.type === 'redis')
        .map((t) => t.metadata.listName)
        .sort(),
      [QueueName.Deliveries, QueueName.MailEvents].map((q) => keys.toKey(q, 'wait')).sort(),
    );
    assert.ok(dispatcher.spec.triggers.some((t) => t.type === 'cpu'));
    const worker = find(objects, 'ScaledObject', 'mailpush-worker') as Scaled;
    assert.deepEqual(
      worker.spec.triggers.map((t) => t.type),
      ['prometheus'],
      'workers never scale on CPU',
    );
    assert.match(worker.spec.triggers[0]?.metadata.query ?? '', /mailpush_accounts\{/);
    const down = worker.spec.advanced?.horizontalPodAutoscalerConfig?.behavior?.scaleDown;
    assert.ok((down?.stabilizationWindowSeconds ?? 0) >= 900, 'slow scale-down');
    for (const s of [dispatcher, worker]) {
      const target = find(objects, 'Deployment', s.spec.scaleTargetRef.name) as Deployment;
      assert.equal(target.spec.replicas, undefined, `${target.metadata.name}: the autoscaler owns replicas`);
    }
  });
});
