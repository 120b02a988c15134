// The deployment guide's files (deploy/): every YAML file parses, the Kubernetes manifests hold the
// objects the guide promises and point at each other, the compose example's services and nginx agree,
// and every berth setting, flag and command they name is one berth really has — taken from berth
// itself (its configuration loader, its command-line parser), never from a list kept here.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { parseAllDocuments } from 'yaml';
import { loadConfig } from '../../src/config.js';
import { registerAdmin } from '../../src/doors/admin/index.js';
import { managedPolicyByArn } from '../../src/policy/managed-policies.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const DEPLOY = join(ROOT, 'deploy');
const KUBERNETES = join(DEPLOY, 'kubernetes');
const COMPOSE = join(DEPLOY, 'compose');
const NGINX = '/usr/sbin/nginx';

type Obj = Record<string, any>;

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

/** Every document of a YAML file; a syntax error (or a duplicate key) fails the test naming the file. */
function yamlDocuments(file: string): Obj[] {
  const docs = parseAllDocuments(readFileSync(file, 'utf8'), { merge: true, uniqueKeys: true });
  if (!Array.isArray(docs)) return [];
  for (const doc of docs) assert.deepEqual(doc.errors.map(String), [], `${relative(ROOT, file)} parses`);
  return docs.map((doc) => doc.toJS({ maxAliasCount: 100 }) as Obj).filter((doc) => doc !== null);
}

/** The environment variables berth's configuration loader reads, recorded as it reads them. */
function variablesBerthReads(): Set<string> {
  const read = new Set<string>();
  const recording = (values: NodeJS.ProcessEnv) =>
    new Proxy(values, {
      get(target, name) {
        if (typeof name === 'string') read.add(name);
        return target[name as string];
      },
    });
  loadConfig({}, recording({}));
  loadConfig({}, recording({ BERTH_BLOB_STORE: 's3://bucket-name/prefix' }));
  return read;
}

/** berth's command tree: `admin …` from its registration, `serve`'s options from `berth serve --help`. */
function berthCommands(): Command {
  const program = new Command('berth');
  registerAdmin(program);
  const help = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'main.ts'), 'serve', '--help'], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(help.status, 0, `berth serve --help: ${help.stderr}`);
  const serve = program.command('serve');
  for (const [, long] of help.stdout.matchAll(/^\s+(?:-\w, )?(--[a-z0-9-]+)/gm)) serve.option(long!);
  assert.ok(serve.options.some((o) => o.long === '--listen'), `serve --help lists --listen:\n${help.stdout}`);
  return program;
}

/** Checks one berth command line (the words after `berth`): its (sub)commands and every --flag exist. */
function assertKnownCommandLine(program: Command, words: string[], where: string): void {
  let command = program;
  let i = 0;
  for (; i < words.length; i++) {
    const sub = command.commands.find((c) => c.name() === words[i]);
    if (!sub) break;
    command = sub;
  }
  assert.notEqual(command, program, `${where}: \`berth ${words.join(' ')}\` names a berth command`);
  assert.equal(command.commands.length, 0, `${where}: \`berth ${words.join(' ')}\` names a whole command, not a group`);
  const known = new Set([...command.options.map((o) => o.long), '--help']);
  for (const word of words.slice(i).filter((w) => w.startsWith('--'))) {
    const flag = word.split('=')[0]!;
    assert.ok(known.has(flag), `${where}: \`berth ${words.slice(0, i).join(' ')}\` has no ${flag} (it has ${[...known].join(', ')})`);
  }
}

/** The words after `bin/berth.js` wherever a file runs berth (the guide spells every command so). */
function commandLinesInText(text: string): string[][] {
  const lines: string[][] = [];
  for (const [, rest] of text.matchAll(/bin\/berth\.js((?:[ \t]+[^\s"'`|;&)\\]+)+)/g)) {
    lines.push(rest!.trim().split(/[ \t]+/));
  }
  return lines;
}

/** A container's berth arguments: after the `…/berth.js` in command + args, or args to the image's entrypoint. */
function berthArguments(words: string[], where: string): string[] {
  const at = words.findIndex((w) => w.endsWith('bin/berth.js') || w === 'berth');
  if (at >= 0) return words.slice(at + 1);
  const entrypoint = containerfileInstruction('ENTRYPOINT');
  assert.ok(entrypoint.at(-1)!.endsWith('bin/berth.js'), `${where}: the image's entrypoint runs berth`);
  return words;
}

function containerfileInstruction(name: string): string[] {
  const m = new RegExp(`^${name}\\s+(\\[.*\\])\\s*$`, 'm').exec(readFileSync(join(DEPLOY, 'Containerfile'), 'utf8'));
  assert.ok(m, `deploy/Containerfile has an exec-form ${name}`);
  return JSON.parse(m[1]!) as string[];
}

/** `--name value` / `--name=value` pairs of a berth command line, as loadConfig's flags. */
function serveFlags(args: string[]): Record<string, string> {
  const flags: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) {
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(args[i]!);
    if (!m) continue;
    const camel = m[1]!.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    flags[camel] = m[2] ?? args[++i]!;
  }
  return flags;
}

function kubernetesObjects(): Obj[] {
  return filesUnder(KUBERNETES)
    .filter((f) => /\.ya?ml$/.test(f))
    .flatMap((f) => yamlDocuments(f));
}

function one(objects: Obj[], kind: string): Obj {
  const found = objects.filter((o) => o.kind === kind);
  assert.equal(found.length, 1, `one ${kind}`);
  return found[0]!;
}

function selects(selector: Obj | undefined, labels: Obj): boolean {
  const wanted = Object.entries(selector?.matchLabels ?? selector ?? {});
  return wanted.length > 0 && wanted.every(([k, v]) => labels[k] === v);
}

describe('deployment guide: files under deploy/', () => {
  it('every YAML file under deploy/ parses', () => {
    const files = filesUnder(DEPLOY).filter((f) => /\.ya?ml$/.test(f));
    assert.ok(files.length >= 6, `found ${files.map((f) => relative(DEPLOY, f)).join(', ')}`);
    for (const file of files) assert.ok(yamlDocuments(file).length > 0, `${relative(ROOT, file)} holds a document`);
  });

  it('every BERTH_* variable named anywhere in deploy/ is one berth reads', () => {
    const known = variablesBerthReads();
    assert.ok(known.has('BERTH_DATABASE_URL') && known.has('BERTH_S3_ENDPOINT'), 'the recorder sees what loadConfig reads');
    const named = new Map<string, string>();
    for (const file of filesUnder(DEPLOY)) {
      for (const [name] of readFileSync(file, 'utf8').matchAll(/\bBERTH_[A-Z0-9_]*[A-Z0-9]\b/g)) named.set(name, relative(ROOT, file));
    }
    assert.ok(named.size >= 8, `deploy/ names berth's settings: ${[...named.keys()].join(', ')}`);
    for (const [name, file] of named) assert.ok(known.has(name), `${file} names ${name}, which berth does not read`);
  });

  it('every berth command line in deploy/ names a real command and only flags it accepts', () => {
    const program = berthCommands();
    let checked = 0;
    for (const file of filesUnder(DEPLOY)) {
      for (const words of commandLinesInText(readFileSync(file, 'utf8'))) {
        assertKnownCommandLine(program, words, relative(ROOT, file));
        checked++;
      }
    }
    const serveArgs = [
      containerfileInstruction('CMD'),
      ...kubernetesObjects()
        .filter((o) => o.kind === 'Deployment')
        .flatMap((d) => (d.spec.template.spec.containers as Obj[]).map((c) => berthArguments([...(c.command ?? []), ...(c.args ?? [])], 'deployment'))),
      ...Object.values(composeServices()).filter(isBerthService).map((s) => berthArguments(s.command, 'compose')),
    ];
    for (const args of serveArgs) {
      assertKnownCommandLine(program, args, 'a container command');
      checked++;
    }
    assert.ok(checked >= 6, `checked ${checked} command lines`);
  });

  it('every AWS managed policy named in deploy/ is one berth has', () => {
    for (const file of filesUnder(DEPLOY)) {
      for (const [arn] of readFileSync(file, 'utf8').matchAll(/arn:aws:iam::aws:policy\/[\w+=,.@-]+/g)) {
        assert.ok(managedPolicyByArn(arn), `${relative(ROOT, file)} names ${arn}, a managed policy berth does not have`);
      }
    }
  });
});

describe('deployment guide: Kubernetes manifests', () => {
  const objects = kubernetesObjects();
  const deployment = one(objects, 'Deployment');
  const pod = deployment.spec.template.spec as Obj;
  const container = pod.containers[0] as Obj;
  const args = berthArguments([...(container.command ?? []), ...(container.args ?? [])], 'deployment');
  const portNamed = (port: string | number): number => (typeof port === 'number' ? port : (container.ports as Obj[]).find((p) => p.name === port)?.containerPort);

  it('holds a Deployment, Service, ConfigMap, Secret and PodDisruptionBudget, in no fixed namespace', () => {
    const kinds = new Set(objects.map((o) => o.kind));
    for (const kind of ['Deployment', 'Service', 'ConfigMap', 'Secret', 'PodDisruptionBudget']) assert.ok(kinds.has(kind), `a ${kind}`);
    for (const o of objects) {
      assert.ok(o.apiVersion && o.metadata?.name, `${o.kind} has apiVersion and name`);
      assert.equal(o.metadata.namespace, undefined, `${o.kind}/${o.metadata.name} leaves the namespace to kubectl -n`);
    }
  });

  it('runs several nodes of `berth serve` listening on the container port, data dir on an emptyDir', () => {
    assert.ok(deployment.spec.replicas >= 2, 'more than one node');
    assert.equal(args[0], 'serve');
    const flags = serveFlags(args);
    const port = Number(/:(\d+)$/.exec(flags.listen!)![1]);
    assert.match(flags.listen!, /^0\.0\.0\.0:/, 'listens on every address of the pod');
    assert.ok((container.ports as Obj[]).some((p) => p.containerPort === port), `container port ${port}`);
    const dataMount = (container.volumeMounts as Obj[]).find((m) => m.mountPath === flags.dataDir);
    assert.ok(dataMount, `a volume at --data-dir ${flags.dataDir}`);
    assert.ok((pod.volumes as Obj[]).find((v) => v.name === dataMount.name)?.emptyDir, 'the data dir is scratch (emptyDir)');
  });

  it('probes: readiness on /readyz and liveness on /healthz, on the port berth listens on', () => {
    const port = Number(/:(\d+)$/.exec(serveFlags(args).listen!)![1]);
    assert.equal(container.readinessProbe?.httpGet?.path, '/readyz');
    assert.equal(container.livenessProbe?.httpGet?.path, '/healthz');
    for (const probe of [container.readinessProbe, container.livenessProbe, container.startupProbe].filter(Boolean)) {
      assert.equal(portNamed(probe.httpGet.port), port, `probe ${probe.httpGet.path} on port ${port}`);
    }
  });

  it('settings come from the ConfigMap and Secret it names, and load into a valid berth configuration', () => {
    const configMaps = objects.filter((o) => o.kind === 'ConfigMap');
    const secrets = objects.filter((o) => o.kind === 'Secret');
    const known = variablesBerthReads();
    const env: Record<string, string> = {};
    for (const from of container.envFrom as Obj[]) {
      const source = from.configMapRef
        ? configMaps.find((c) => c.metadata.name === from.configMapRef.name)?.data
        : secrets.find((s) => s.metadata.name === from.secretRef?.name)?.stringData;
      assert.ok(source, `envFrom ${JSON.stringify(from)} names an object in deploy/kubernetes`);
      for (const [name, value] of Object.entries(source as Record<string, string>)) {
        assert.ok(known.has(name), `${name} (envFrom) is a variable berth reads`);
        env[name] = value;
      }
    }
    for (const e of (container.env ?? []) as Obj[]) assert.ok(known.has(e.name), `${e.name} is a variable berth reads`);
    const config = loadConfig(serveFlags(args.slice(1)), env);
    assert.equal(config.host, '0.0.0.0');
    assert.equal(config.blobStore.kind, 's3', 'blobs in S3');
    assert.match(config.databaseUrl ?? '', /^postgres/, 'metadata in PostgreSQL');
    assert.ok(config.metricsToken, 'the metrics token is shared, not per node');
    assert.equal(env.BERTH_DATA_DIR ?? config.dataDir, config.dataDir, 'BERTH_DATA_DIR (for `kubectl exec … berth admin`) is the --data-dir');
  });

  it('the master key is one file from a Secret, mounted read-only and readable by its owner only', () => {
    const keyFile = loadConfig(serveFlags(args.slice(1)), one(objects, 'ConfigMap').data).masterKeyFile;
    const mount = (container.volumeMounts as Obj[]).find((m) => keyFile.startsWith(`${m.mountPath}/`));
    assert.ok(mount, `a volume holds ${keyFile}`);
    assert.equal(mount.readOnly, true);
    const volume = (pod.volumes as Obj[]).find((v) => v.name === mount.name)!;
    assert.ok(volume.secret, 'mounted from a Secret');
    const item = (volume.secret.items as Obj[]).find((i) => posix.join(mount.mountPath, i.path) === keyFile);
    assert.ok(item, `the Secret's item lands at ${keyFile}`);
    const secret = objects.find((o) => o.kind === 'Secret' && o.metadata.name === volume.secret.secretName);
    assert.ok(secret && item.key in secret.stringData, `Secret ${volume.secret.secretName} has ${item.key}`);
    assert.equal((item.mode ?? volume.secret.defaultMode) & 0o077, 0, 'mode 0400/0600: no group or other bits');
    const envSecrets = (container.envFrom as Obj[]).map((f) => f.secretRef?.name).filter(Boolean);
    assert.ok(!envSecrets.includes(volume.secret.secretName), 'the master key never becomes an environment variable');
    assert.doesNotMatch(String(secret.stringData[item.key]).trim(), /^[0-9a-fA-F]{64}$/, 'the placeholder is no usable key: berth refuses to start with it');
  });

  it('runs as a non-root user, and gives berth time to finish requests after the preStop pause', () => {
    assert.equal(pod.securityContext?.runAsNonRoot, true);
    assert.ok(pod.securityContext?.runAsUser > 0);
    assert.ok(pod.securityContext?.fsGroup !== undefined, 'fsGroup: the master key file is readable by the non-root user');
    assert.equal(container.securityContext?.allowPrivilegeEscalation, false);
    assert.ok(container.resources?.requests?.memory && container.resources?.limits?.memory, 'memory request and limit');
    const pause = Number(container.lifecycle?.preStop?.exec?.command?.at(-1) ?? 0);
    assert.ok(pod.terminationGracePeriodSeconds > pause + 30, 'the grace period outlasts the preStop pause by a working margin');
  });

  it('the Service and the PodDisruptionBudget select the pods, and a drain can take one node at a time', () => {
    const labels = deployment.spec.template.metadata.labels as Obj;
    assert.ok(selects(deployment.spec.selector, labels), "the Deployment's selector matches its pods");
    const service = one(objects, 'Service');
    assert.ok(selects(service.spec.selector, labels), 'the Service selects the pods');
    const listenPort = Number(/:(\d+)$/.exec(serveFlags(args).listen!)![1]);
    for (const p of service.spec.ports as Obj[]) assert.equal(portNamed(p.targetPort ?? p.port), listenPort, 'the Service targets the port berth listens on');
    const pdb = one(objects, 'PodDisruptionBudget');
    assert.ok(selects(pdb.spec.selector, labels), 'the PodDisruptionBudget selects the pods');
    const allowed = pdb.spec.maxUnavailable ?? deployment.spec.replicas - pdb.spec.minAvailable;
    assert.ok(allowed >= 1 && deployment.spec.replicas - allowed >= 2, `${deployment.spec.replicas} replicas, ${allowed} may be down at once`);
  });
});

function composeServices(): Record<string, Obj> {
  const [compose] = yamlDocuments(join(COMPOSE, 'compose.yaml'));
  return compose!.services as Record<string, Obj>;
}

function isBerthService(service: Obj): boolean {
  return Array.isArray(service.command) && service.command.includes('serve');
}

/** nginx.conf without comments. */
function nginxConf(): string {
  return readFileSync(join(COMPOSE, 'nginx.conf'), 'utf8').replace(/#.*$/gm, '');
}

describe('deployment guide: compose example', () => {
  const compose = yamlDocuments(join(COMPOSE, 'compose.yaml'))[0]!;
  const services = compose.services as Record<string, Obj>;
  const berthNodes = Object.entries(services).filter(([, s]) => isBerthService(s));

  it('runs two or more berth nodes on one PostgreSQL database and one S3 bucket, sharing one master key', () => {
    assert.ok(berthNodes.length >= 2, 'several berth nodes');
    const known = variablesBerthReads();
    for (const [name, node] of berthNodes) {
      for (const variable of Object.keys(node.environment)) assert.ok(known.has(variable), `${name}: berth reads ${variable}`);
      const args = berthArguments(node.command, name);
      const config = loadConfig(serveFlags(args.slice(1)), node.environment);
      const database = new URL(config.databaseUrl!);
      const postgres = services[database.hostname];
      assert.ok(postgres, `${name}: the database host ${database.hostname} is a compose service`);
      assert.equal(database.port || '5432', '5432');
      assert.deepEqual(
        [decodeURIComponent(database.username), decodeURIComponent(database.password), database.pathname.slice(1)],
        [postgres.environment.POSTGRES_USER, postgres.environment.POSTGRES_PASSWORD, postgres.environment.POSTGRES_DB],
        `${name}: the database URL's user, password and database are the postgres service's`,
      );
      assert.equal(config.blobStore.kind, 's3');
      if (config.blobStore.kind !== 's3') continue;
      assert.ok(services[new URL(config.blobStore.endpoint!).hostname], `${name}: the S3 endpoint is a compose service`);
      const secret = /^\/run\/secrets\/(.+)$/.exec(config.masterKeyFile)?.[1];
      assert.ok(secret && node.secrets.includes(secret) && compose.secrets[secret]?.file, `${name}: the master key is the compose secret ${secret}`);
      for (const dependency of Object.keys(node.depends_on)) assert.ok(services[dependency], `${name} depends on ${dependency}, a service`);
    }
  });

  it("the example S3 store's keys are the ones berth uses, and every file it mounts exists", () => {
    const s3Json = JSON.parse(readFileSync(join(COMPOSE, 'seaweedfs-s3.json'), 'utf8')) as { identities: { credentials?: { accessKey: string; secretKey: string }[] }[] };
    const keys = s3Json.identities.flatMap((i) => i.credentials ?? []);
    for (const [name, node] of berthNodes) {
      assert.ok(keys.some((k) => k.accessKey === node.environment.BERTH_S3_ACCESS_KEY_ID && k.secretKey === node.environment.BERTH_S3_SECRET_ACCESS_KEY), `${name}'s S3 keys are in seaweedfs-s3.json`);
      assert.ok(existsSync(join(COMPOSE, node.build.context, node.build.dockerfile)), `${name} builds from ${node.build.dockerfile}`);
    }
    for (const [name, service] of Object.entries(services)) {
      for (const volume of (service.volumes ?? []) as string[]) {
        const source = volume.split(':')[0]!;
        if (source.startsWith('.')) assert.ok(existsSync(join(COMPOSE, source)), `${name} mounts ${source}, which exists`);
      }
    }
  });

  it("nginx's upstream is every berth node, by service name and the port it listens on", () => {
    const conf = nginxConf();
    const upstream = /upstream\s+(\S+)\s*\{([^}]*)\}/.exec(conf);
    assert.ok(upstream, 'an upstream block');
    assert.match(conf, new RegExp(`proxy_pass\\s+http://${upstream[1]};`), 'requests go to the upstream');
    const servers = [...upstream[2]!.matchAll(/server\s+([^\s;:]+):(\d+)/g)].map(([, host, port]) => `${host}:${port}`).sort();
    const nodes = berthNodes.map(([name, node]) => `${name}:${/:(\d+)$/.exec(serveFlags(berthArguments(node.command, name)).listen!)![1]}`).sort();
    assert.deepEqual(servers, nodes);
    const listen = /listen\s+(\d+)\s*;/.exec(conf)![1];
    const nginx = Object.entries(services).find(([, s]) => (s.volumes ?? []).some((v: string) => v.startsWith('./nginx.conf:')));
    assert.ok(nginx, 'a service runs nginx.conf');
    assert.ok((nginx[1].ports as string[]).some((p) => p.endsWith(`:${listen}`)), `nginx publishes its port ${listen}`);
  });

  it('nginx streams unlimited bodies both ways over HTTP/1.1 and passes the Host header on', () => {
    const conf = nginxConf();
    for (const directive of ['client_max_body_size 0;', 'proxy_request_buffering off;', 'proxy_buffering off;', 'proxy_http_version 1.1;', 'proxy_set_header Host $http_host;']) {
      assert.ok(conf.split('\n').some((line) => line.trim().replace(/\s+/g, ' ') === directive), `nginx.conf has \`${directive}\``);
    }
  });

  it('nginx accepts the configuration (nginx -t, upstreams pointed at loopback)', { skip: !existsSync(NGINX) && 'nginx is not installed' }, () => {
    const prefix = mkdtempSync(join(tmpdir(), 'berth-nginx-'));
    try {
      const conf = join(prefix, 'nginx.conf');
      writeFileSync(conf, nginxConf().replace(/server\s+[^\s;:]+:(\d+)/g, 'server 127.0.0.1:$1').replace(/^http \{/m, `pid ${join(prefix, 'nginx.pid')};\nhttp {`));
      const result = spawnSync(NGINX, ['-t', '-p', prefix, '-c', conf, '-e', join(prefix, 'error.log')], { encoding: 'utf8' });
      assert.equal(result.status, 0, result.stderr);
    } finally {
      rmSync(prefix, { recursive: true, force: true });
    }
  });
});
