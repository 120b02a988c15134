// Start and stop the two registries under test on loopback, each with its own data dir,
// and sample their memory while they run.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, readdirSync, statSync, accessSync, constants as fsConstants } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent as HttpsAgent } from 'node:https';
import { Agent, request } from 'undici';
import { berthAuthorization } from './berth-auth.js';
import type { ServerKind } from './config.js';
import { RssSampler } from './rss.js';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface RunningServer {
  kind: ServerKind;
  label: string;
  origin: string;
  dataDir: string;
  pid: number;
  version: string;
  /** `Authorization` header value for /v2 requests, if the server wants one. */
  authorization: string | undefined;
  /** The CA that signed the server's certificate, when it serves TLS (origin is https). */
  ca?: Buffer;
  rss: RssSampler;
  stop(): Promise<void>;
}

export interface StartOptions {
  label: string;
  dataDir: string;
  berthCpuProfileDir?: string;
  /** Serve TLS with this certificate and key (berth --tls-cert/--tls-key, Distribution http.tls). */
  tls?: BenchTls;
  /** Keep blobs in this S3 bucket (which exists) instead of the data dir. */
  s3?: S3Storage;
}

export interface BenchTls {
  certFile: string;
  keyFile: string;
  /** The CA that signed certFile, trusted by the benchmark's clients. */
  ca: Buffer;
}

export interface S3Storage {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  bucket: string;
}

export class ServerUnavailable extends Error {}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

/** First executable named `names[i]` on PATH. */
export function findOnPath(names: string[]): string | undefined {
  const dirs = (process.env.PATH ?? '').split(path.delimiter).filter(Boolean);
  for (const name of names) {
    for (const dir of dirs) {
      const candidate = path.join(dir, name);
      try {
        accessSync(candidate, fsConstants.X_OK);
        if (statSync(candidate).isFile()) return candidate;
      } catch {
        /* not here */
      }
    }
  }
  return undefined;
}

export async function startServer(kind: ServerKind, options: StartOptions): Promise<RunningServer> {
  await mkdir(options.dataDir, { recursive: true });
  return kind === 'berth' ? startBerth(options) : startDistribution(options);
}

// ---------------------------------------------------------------- Distribution

function distributionConfig(dataDir: string, port: number, tls: BenchTls | undefined, s3: S3Storage | undefined): string {
  const storage = s3
    ? [
        '  s3:',
        `    accesskey: ${s3.accessKeyId}`,
        `    secretkey: ${s3.secretAccessKey}`,
        `    region: ${s3.region}`,
        `    regionendpoint: ${s3.endpoint}`,
        `    bucket: ${s3.bucket}`,
        '    rootdirectory: /registry',
        `    secure: ${s3.endpoint.startsWith('https:')}`,
        '    v4auth: true',
        // Like berth, bytes pass through the registry rather than a redirect to the object store.
        '  redirect:',
        '    disable: true',
      ]
    : ['  filesystem:', `    rootdirectory: ${JSON.stringify(path.join(dataDir, 'storage'))}`];
  return [
    'version: 0.1',
    'log:',
    '  level: error',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    ...storage,
    '  delete:',
    '    enabled: true',
    '  maintenance:',
    '    uploadpurging:',
    '      enabled: false',
    'http:',
    `  addr: 127.0.0.1:${port}`,
    ...(tls ? ['  tls:', `    certificate: ${JSON.stringify(tls.certFile)}`, `    key: ${JSON.stringify(tls.keyFile)}`] : []),
    '',
  ].join('\n');
}

async function startDistribution(options: StartOptions): Promise<RunningServer> {
  const binary = findOnPath(['docker-registry', 'registry']);
  if (!binary) throw new ServerUnavailable('CNCF Distribution not found on PATH (install the docker-registry package)');
  const version = (spawnSync(binary, ['--version'], { encoding: 'utf8' }).stdout || '').trim().split(/\s+/).pop() ?? '?';
  const port = await freePort();
  const configFile = path.join(options.dataDir, 'config.yml');
  await writeFile(configFile, distributionConfig(options.dataDir, port, options.tls, options.s3));
  // REGISTRY_* variables would override the file; do not inherit any. Distribution 2.8's S3 driver
  // panics at start when AWS_CA_BUNDLE is set.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('REGISTRY_') && k !== 'AWS_CA_BUNDLE'));
  const child = spawn(binary, ['serve', configFile], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  return running('distribution', `Distribution ${version}`, child, port, options);
}

// ---------------------------------------------------------------- berth

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(full));
    else if (entry.isFile()) newest = Math.max(newest, statSync(full).mtimeMs);
  }
  return newest;
}

function ensureBerthBuilt(): void {
  const main = path.join(REPO_ROOT, 'dist', 'main.js');
  const src = path.join(REPO_ROOT, 'src');
  const stale = !existsSync(main) || (existsSync(src) && newestMtime(src) > statSync(main).mtimeMs);
  if (!stale) return;
  process.stderr.write('bench: building berth (npm run build)…\n');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const result = spawnSync(npm, ['run', 'build'], { cwd: REPO_ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
  const hint = 'or validate the harness alone with BENCH_SERVERS=distribution,distribution';
  if (result.status !== 0) {
    throw new ServerUnavailable(`berth could not be built (npm run build exited ${result.status ?? result.signal}); fix the build, ${hint}`);
  }
  if (!existsSync(main)) {
    throw new ServerUnavailable(`npm run build produced no dist/main.js (is there a src/main.ts yet?); ${hint}`);
  }
}

async function startBerth(options: StartOptions): Promise<RunningServer> {
  ensureBerthBuilt();
  const port = await freePort();
  const version = JSON.parse(await readFile(path.join(REPO_ROOT, 'package.json'), 'utf8')).version as string;
  const nodeArgs = options.berthCpuProfileDir ? ['--cpu-prof', ...(process.env.BENCH_CPU_PROF_INTERVAL ? [`--cpu-prof-interval=${process.env.BENCH_CPU_PROF_INTERVAL}`] : []), `--cpu-prof-dir=${path.resolve(options.berthCpuProfileDir)}`] : [];
  const child = spawn(
    process.execPath,
    [
      ...nodeArgs,
      path.join(REPO_ROOT, 'bin', 'berth.js'),
      'serve',
      '--listen',
      `127.0.0.1:${port}`,
      '--data-dir',
      options.dataDir,
      ...(options.tls ? ['--tls-cert', options.tls.certFile, '--tls-key', options.tls.keyFile] : []),
    ],
    {
      cwd: REPO_ROOT,
      env: { ...process.env, BERTH_CREATE_ON_PUSH: 'true', BERTH_LOG_LEVEL: process.env.BENCH_BERTH_LOG_LEVEL || 'error', ...berthS3Env(options.s3) },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  return running('berth', `berth ${version}`, child, port, options);
}

function berthS3Env(s3: S3Storage | undefined): Record<string, string> {
  if (!s3) return {};
  return {
    BERTH_BLOB_STORE: `s3://${s3.bucket}/berth`,
    BERTH_S3_ENDPOINT: s3.endpoint,
    BERTH_S3_REGION: s3.region,
    BERTH_S3_FORCE_PATH_STYLE: 'true',
    BERTH_S3_ACCESS_KEY_ID: s3.accessKeyId,
    BERTH_S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
  };
}

// ---------------------------------------------------------------- common

async function running(
  kind: ServerKind,
  name: string,
  child: ChildProcess,
  port: number,
  options: StartOptions,
): Promise<RunningServer> {
  const origin = `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  const dispatcher = options.tls ? new Agent({ connect: { ca: options.tls.ca } }) : undefined;
  const logFile = path.join(options.dataDir, 'server.stderr.log');
  const log = createWriteStream(logFile);
  let stderrTail = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    log.write(chunk);
    stderrTail = (stderrTail + chunk.toString('utf8')).slice(-2000);
  });
  let exited: string | undefined;
  const exit = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = `exited with ${signal ?? `code ${code}`}`;
      resolve();
    });
  });
  const fail = (why: string) => {
    child.kill('SIGKILL');
    return new ServerUnavailable(`${name} (${options.label}) ${why}${stderrTail ? `\n--- stderr ---\n${stderrTail.trim()}` : ''}`);
  };

  // Wait for /v2/ to answer 200 or 401.
  const deadline = Date.now() + 30_000;
  let status = 0;
  let challenge = '';
  while (status !== 200 && status !== 401) {
    if (exited) throw fail(`${exited} before answering GET /v2/`);
    if (Date.now() > deadline) throw fail('did not answer GET /v2/ within 30 s');
    try {
      const res = await request(`${origin}/v2/`, { headersTimeout: 2000, bodyTimeout: 2000, dispatcher });
      await res.body.dump();
      status = res.statusCode;
      challenge = String(res.headers['www-authenticate'] ?? '');
    } catch {
      await sleep(50);
    }
  }

  let authorization: string | undefined;
  if (status === 401) {
    if (!/^basic\b/i.test(challenge)) throw fail(`answered GET /v2/ 401 with challenge ${JSON.stringify(challenge)}; only Basic is supported`);
    if (kind !== 'berth') throw fail('wants authentication, which the benchmark does not configure for it');
    try {
      authorization = await berthAuthorization(origin, options.dataDir, options.tls && new HttpsAgent({ ca: options.tls.ca }));
    } catch (err) {
      throw fail(`login (GetAuthorizationToken) failed: ${(err as Error).message}`);
    }
    const res = await request(`${origin}/v2/`, { headers: { authorization }, dispatcher });
    await res.body.dump();
    if (res.statusCode !== 200) throw fail(`still answers GET /v2/ ${res.statusCode} with the ECR token`);
  }

  const rss = new RssSampler(child.pid!);
  rss.start();
  return {
    kind,
    label: options.label,
    origin,
    dataDir: options.dataDir,
    pid: child.pid!,
    version: name,
    authorization,
    ca: options.tls?.ca,
    rss,
    async stop() {
      rss.stop();
      if (!exited) {
        child.kill('SIGTERM');
        const killed = await Promise.race([exit.then(() => true), sleep(15_000, undefined, { ref: false }).then(() => false)]);
        if (!killed) {
          child.kill('SIGKILL');
          await exit;
        }
      }
      log.end();
      await dispatcher?.close();
    },
  };
}
