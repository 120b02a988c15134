// Starts a real berth server (node bin/berth.js serve) for end-to-end tests.
//
// Set BERTH_E2E_TARGET=distribution to run the same tests against CNCF Distribution
// (`docker-registry`) instead: useful to check the harness itself. Set BERTH_E2E_VERBOSE=1 to
// copy the server's output to this process's stderr.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, statSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, rmdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CreateRepositoryCommand,
  ECRClient,
  GetAuthorizationTokenCommand,
  RepositoryAlreadyExistsException,
} from '@aws-sdk/client-ecr';
import { Agent as HttpsAgent } from 'node:https';
import { run } from './tools.js';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export type Target = 'berth' | 'distribution';

export interface StartOptions {
  /** Extra environment for the server (e.g. BERTH_CREATE_ON_PUSH=true). */
  env?: Record<string, string>;
  /** Use this data directory (kept on destroy()); default: a fresh temp dir (removed on destroy()). */
  dataDir?: string;
  /**
   * Serve HTTPS with a fresh lab CA and a certificate for 127.0.0.1 and localhost (`berth serve
   * --tls-cert/--tls-key`, or Distribution's `http.tls`). The helper's own requests trust that CA.
   */
  tls?: boolean;
  /**
   * The data dir whose `admin-credentials` this server's clients use: a node joining an account
   * that another node (sharing its database) created. Default: the server's own data dir.
   */
  credentialsFrom?: string;
}

export interface TlsFiles {
  /** Directory holding the CA, certificate and key. */
  dir: string;
  /** The CA certificate (PEM) that signed the server certificate. */
  caFile: string;
  /** A directory holding only ca.crt, for skopeo/podman `--cert-dir` style options. */
  certDir: string;
  certFile: string;
  keyFile: string;
}

export interface Berth {
  target: Target;
  /** http://127.0.0.1:port, or https:// with the tls option */
  url: string;
  /** The certificate files, with the tls option. */
  tls?: TlsFiles;
  /** 127.0.0.1:port, for image references */
  host: string;
  dataDir: string;
  /** Registry password (user AWS) when /v2 requires auth; undefined when it does not. */
  password?: string;
  /** `Basic base64(AWS:password)` when /v2 requires auth. */
  authHeader?: string;
  /** ECR API client on this server, signed with the admin credentials; undefined for Distribution. */
  ecr: ECRClient | undefined;
  /** Process id of the running server (undefined when stopped). */
  pid(): number | undefined;
  /** Last part of the server's stdout+stderr, for failure messages. */
  output(): string;
  /** Graceful stop (SIGTERM, then SIGKILL after 10 s). */
  stop(): Promise<void>;
  /** kill -9, and wait for the process to be gone. */
  kill9(): Promise<void>;
  /** Stop (if running) and start again on the same port and data dir; refreshes password/authHeader. */
  restart(): Promise<void>;
  /** Stop, and remove the data dir if this helper created it. */
  destroy(): Promise<void>;
  /** ECR CreateRepository (already-exists is fine); no-op for Distribution (it creates on push). */
  createRepository(name: string): Promise<void>;
  /** fetch() against the server with the auth header added. `path` may be absolute or relative to url. */
  fetch(path: string, init?: RequestInit): Promise<Response>;
}

export function e2eTarget(): Target {
  return process.env.BERTH_E2E_TARGET === 'distribution' ? 'distribution' : 'berth';
}

// ---------------------------------------------------------------------------------------------
// build dist once if stale

function newestMtime(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

function distIsFresh(): boolean {
  const main = join(REPO_ROOT, 'dist', 'main.js');
  if (!existsSync(main)) return false;
  const built = statSync(main).mtimeMs;
  const sources = [join(REPO_ROOT, 'src'), join(REPO_ROOT, 'tsconfig.json'), join(REPO_ROOT, 'package.json')];
  return sources.every((p) => !existsSync(p) || newestMtime(p) <= built);
}

let buildPromise: Promise<void> | undefined;

/** Runs `npm run build` if dist/ is older than src/; one build at a time across test processes. */
export function ensureBuilt(): Promise<void> {
  if (process.env.BERTH_E2E_NO_BUILD === '1') return Promise.resolve();
  buildPromise ??= (async () => {
    const lock = join(tmpdir(), `berth-build-${createHash('sha256').update(REPO_ROOT).digest('hex').slice(0, 12)}.lock`);
    const deadline = Date.now() + 300_000;
    for (;;) {
      try {
        await mkdir(lock);
        break;
      } catch {
        // Another test process is building; a lock older than 5 minutes is stale.
        try {
          if (Date.now() - statSync(lock).mtimeMs > 300_000) await rmdir(lock);
        } catch {
          /* gone already */
        }
        if (Date.now() > deadline) throw new Error(`timed out waiting for build lock ${lock}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    }
    try {
      if (distIsFresh()) return;
      const res = await run('npm', ['run', 'build'], { cwd: REPO_ROOT, check: false, timeoutMs: 300_000 });
      if (!existsSync(join(REPO_ROOT, 'dist', 'main.js'))) {
        throw new Error(`npm run build produced no dist/main.js:\n${res.stdout}\n${res.stderr}`);
      }
      if (res.code !== 0) {
        // tsc still emits on type errors; run what was built, but say so.
        process.stderr.write(`[berth e2e] warning: npm run build exited ${res.code}:\n${res.stdout.slice(-3000)}\n`);
      }
    } finally {
      await rmdir(lock).catch(() => undefined);
    }
  })();
  return buildPromise;
}

// ---------------------------------------------------------------------------------------------

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      if (addr === null || typeof addr === 'string') return reject(new Error('no port'));
      srv.close(() => resolvePort(addr.port));
    });
  });
}

/** Parses an AWS shared-credentials/config style INI file. */
export function parseIni(text: string): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  let section: Record<string, string> | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const m = /^\[\s*(?:profile\s+)?([^\]]+?)\s*\]$/.exec(line);
    if (m) {
      section = out[m[1]!] ??= {};
      continue;
    }
    const eq = line.indexOf('=');
    if (eq > 0 && section) section[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
  }
  return out;
}

export interface AdminCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
}

export async function readAdminCredentials(dataDir: string): Promise<AdminCredentials | undefined> {
  const file = join(dataDir, 'admin-credentials');
  if (!existsSync(file)) return undefined;
  const profile = parseIni(await readFile(file, 'utf8'))['berth'];
  if (!profile?.aws_access_key_id || !profile.aws_secret_access_key) {
    throw new Error(`${file} has no [berth] profile with aws_access_key_id/aws_secret_access_key`);
  }
  return {
    accessKeyId: profile.aws_access_key_id,
    secretAccessKey: profile.aws_secret_access_key,
    region: profile.region ?? 'us-east-1',
  };
}

/** The registry password exactly as `aws ecr get-login-password` derives it. */
export async function getLoginPassword(ecr: ECRClient): Promise<string> {
  const out = await ecr.send(new GetAuthorizationTokenCommand({}));
  const token = out.authorizationData?.[0]?.authorizationToken;
  if (!token) throw new Error(`GetAuthorizationToken returned no token: ${JSON.stringify(out)}`);
  const decoded = Buffer.from(token, 'base64').toString('utf8');
  const parts = decoded.split(':');
  if (parts.length !== 2 || parts[0] !== 'AWS') throw new Error(`authorization token does not decode to AWS:<password>: ${decoded}`);
  return parts[1]!;
}

interface Proc {
  child: ChildProcess;
  exited: Promise<void>;
  exitInfo?: string;
}

class Server implements Berth {
  url: string;
  tls?: TlsFiles;
  host: string;
  password?: string;
  authHeader?: string;
  ecr: ECRClient | undefined;
  private proc?: Proc;
  private log = '';

  constructor(
    readonly target: Target,
    readonly dataDir: string,
    private readonly ownsDataDir: boolean,
    private readonly port: number,
    private readonly env: Record<string, string>,
    tls?: { files: TlsFiles; fetch: Fetch },
  ) {
    this.host = `127.0.0.1:${port}`;
    this.url = `${tls ? 'https' : 'http'}://${this.host}`;
    this.tls = tls?.files;
    if (tls) {
      this.get = tls.fetch;
      this.httpsAgent = new HttpsAgent({ ca: readFileSync(tls.files.caFile), keepAlive: true });
    }
  }

  /** Where the admin credentials are read from, when not from the server's own data dir. */
  credentialsDir?: string;

  /** fetch(), trusting the lab CA with the tls option. */
  private get: Fetch = (url, init) => fetch(url, init);
  private httpsAgent?: HttpsAgent;

  private registryConfigPath(): string {
    return join(tmpdir(), `berth-e2e-registry-${this.port}.yml`);
  }

  pid(): number | undefined {
    return this.proc?.child.pid;
  }

  output(): string {
    return this.log;
  }

  private append(chunk: Buffer | string): void {
    const s = chunk.toString();
    if (process.env.BERTH_E2E_VERBOSE === '1') process.stderr.write(s);
    this.log = (this.log + s).slice(-64 * 1024);
  }

  private async spawnServer(): Promise<void> {
    let cmd: string;
    let args: string[];
    if (this.target === 'distribution') {
      const config = this.registryConfigPath();
      await writeFile(
        config,
        [
          'version: 0.1',
          'log:',
          '  level: error',
          '  accesslog:',
          '    disabled: true',
          'storage:',
          '  filesystem:',
          `    rootdirectory: ${this.dataDir}`,
          '  delete:',
          '    enabled: true',
          'http:',
          `  addr: ${this.host}`,
          ...(this.tls ? ['  tls:', `    certificate: ${this.tls.certFile}`, `    key: ${this.tls.keyFile}`] : []),
          '',
        ].join('\n'),
      );
      cmd = 'docker-registry';
      args = ['serve', config];
    } else {
      cmd = process.execPath;
      args = [join(REPO_ROOT, 'bin', 'berth.js'), 'serve', '--listen', this.host, '--data-dir', this.dataDir];
      if (this.tls) args.push('--tls-cert', this.tls.certFile, '--tls-key', this.tls.keyFile);
    }
    const child = spawn(cmd, args, {
      cwd: REPO_ROOT,
      env: { ...process.env, BERTH_LOG_LEVEL: 'error', ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const proc: Proc = { child, exited: Promise.resolve() };
    proc.exited = new Promise((resolveExit) => {
      child.on('exit', (code, signal) => {
        proc.exitInfo = signal ? `signal ${signal}` : `exit code ${code}`;
        resolveExit();
      });
      child.on('error', (err) => {
        proc.exitInfo = `spawn error: ${err.message}`;
        resolveExit();
      });
    });
    child.stdout!.on('data', (d) => this.append(d));
    child.stderr!.on('data', (d) => this.append(d));
    this.proc = proc;
    live.add(this);
    await this.waitReady(proc);
    await this.authenticate();
  }

  private async waitReady(proc: Proc): Promise<void> {
    const deadline = Date.now() + 30_000;
    let last = '';
    while (Date.now() < deadline) {
      if (proc.exitInfo !== undefined) {
        throw new Error(`${this.target} exited before it was ready (${proc.exitInfo}). Output:\n${this.log}`);
      }
      try {
        const res = await this.get(`${this.url}/v2/`, { signal: AbortSignal.timeout(2000) });
        await res.arrayBuffer();
        if (res.status === 200 || res.status === 401) return;
        last = `GET /v2/ -> ${res.status}`;
      } catch (err) {
        last = String(err);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`${this.target} not ready after 30 s (last: ${last}). Output:\n${this.log}`);
  }

  private async authenticate(): Promise<void> {
    this.password = undefined;
    this.authHeader = undefined;
    if (this.target === 'distribution') {
      this.ecr = undefined;
      return;
    }
    const res = await this.get(`${this.url}/v2/`);
    await res.arrayBuffer();
    const needsAuth = res.status === 401;
    const challenge = res.headers.get('www-authenticate') ?? '';
    if (needsAuth && !/^basic\b/i.test(challenge)) throw new Error(`GET /v2/ -> 401 with unexpected WWW-Authenticate: ${challenge}`);
    let creds = await readAdminCredentials(this.credentialsDir ?? this.dataDir);
    for (let i = 0; needsAuth && !creds && i < 50; i++) {
      // The server may write admin-credentials just after it starts listening.
      await new Promise((r) => setTimeout(r, 100));
      creds = await readAdminCredentials(this.credentialsDir ?? this.dataDir);
    }
    this.ecr?.destroy();
    this.ecr = new ECRClient({
      endpoint: this.url,
      region: creds?.region ?? 'us-east-1',
      credentials: creds
        ? { accessKeyId: creds.accessKeyId, secretAccessKey: creds.secretAccessKey }
        : { accessKeyId: 'AKIDANONYMOUSTEST000', secretAccessKey: 'anonymous' },
      maxAttempts: 1,
      ...(this.httpsAgent ? { requestHandler: { httpsAgent: this.httpsAgent } } : {}),
    });
    if (!needsAuth) return;
    if (!creds) throw new Error(`GET /v2/ requires auth but ${this.credentialsDir ?? this.dataDir}/admin-credentials does not exist`);
    try {
      this.password = await getLoginPassword(this.ecr);
    } catch (err) {
      throw new Error(`GetAuthorizationToken failed: ${String(err)}\nServer output:\n${this.log}`);
    }
    this.authHeader = `Basic ${Buffer.from(`AWS:${this.password}`).toString('base64')}`;
  }

  async start(): Promise<void> {
    await this.spawnServer();
  }

  async stop(): Promise<void> {
    const proc = this.proc;
    if (!proc) return;
    if (proc.exitInfo === undefined) {
      proc.child.kill('SIGTERM');
      const timer = setTimeout(() => proc.child.kill('SIGKILL'), 10_000);
      await proc.exited;
      clearTimeout(timer);
    }
    this.proc = undefined;
    live.delete(this);
  }

  async kill9(): Promise<void> {
    const proc = this.proc;
    if (!proc) return;
    if (proc.exitInfo === undefined) proc.child.kill('SIGKILL');
    await proc.exited;
    this.proc = undefined;
    live.delete(this);
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.spawnServer();
  }

  async destroy(): Promise<void> {
    await this.stop();
    this.ecr?.destroy();
    if (this.ownsDataDir) await rm(this.dataDir, { recursive: true, force: true });
    if (this.target === 'distribution') await rm(this.registryConfigPath(), { force: true });
    if (this.tls) await rm(this.tls.dir, { recursive: true, force: true });
  }

  async createRepository(name: string): Promise<void> {
    if (!this.ecr) return;
    try {
      await this.ecr.send(new CreateRepositoryCommand({ repositoryName: name }));
    } catch (err) {
      if (err instanceof RepositoryAlreadyExistsException) return;
      throw new Error(`CreateRepository ${name} failed: ${String(err)}\nServer output:\n${this.log}`);
    }
  }

  fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.authHeader && !headers.has('authorization')) headers.set('authorization', this.authHeader);
    return this.get(new URL(path, this.url), { redirect: 'follow', ...init, headers });
  }
}

const live = new Set<Server>();
process.on('exit', () => {
  for (const s of live) s['proc']?.child.kill('SIGKILL');
});

/** Starts berth (or Distribution, see BERTH_E2E_TARGET) on a free loopback port; ready and logged in. */
export async function startBerth(opts: StartOptions = {}): Promise<Berth> {
  const target = e2eTarget();
  if (target === 'berth') await ensureBuilt();
  const dataDir = opts.dataDir ?? (await mkdtemp(join(tmpdir(), `berth-e2e-${target}-`)));
  await mkdir(dataDir, { recursive: true });
  const server = new Server(target, dataDir, opts.dataDir === undefined, await freePort(), opts.env ?? {}, opts.tls ? await trustingFetch(await labCertificates()) : undefined);
  if (opts.credentialsFrom) server.credentialsDir = opts.credentialsFrom;
  try {
    await server.start();
  } catch (err) {
    await server.destroy().catch(() => undefined);
    throw err;
  }
  return server;
}

type Fetch = (url: string | URL, init?: RequestInit) => Promise<Response>;

/**
 * A fetch that trusts the lab CA. undici is loaded only here: once loaded, it installs its own global
 * dispatcher, under which node's built-in fetch refuses a request with an explicit Content-Length —
 * which other tests send.
 */
async function trustingFetch(files: TlsFiles): Promise<{ files: TlsFiles; fetch: Fetch }> {
  const undici = await import('undici');
  const dispatcher = new undici.Agent({ connect: { ca: await readFile(files.caFile) } });
  const get: Fetch = (url, init) => undici.fetch(url, { ...init, dispatcher } as Parameters<typeof undici.fetch>[1]) as unknown as Promise<Response>;
  return { files, fetch: get };
}

/** A fresh lab CA and a server certificate for 127.0.0.1 and localhost, as `berth admin tls self-signed` writes them. */
export async function labCertificates(hosts = ['127.0.0.1', 'localhost']): Promise<TlsFiles> {
  const { writeSelfSigned } = await import('../../src/doors/http/self-signed.js');
  const dir = await mkdtemp(join(tmpdir(), 'berth-e2e-tls-'));
  const files = await writeSelfSigned(dir, hosts);
  const certDir = join(dir, 'trust');
  await mkdir(certDir);
  await writeFile(join(certDir, 'ca.crt'), await readFile(files.caCert));
  return { dir, caFile: files.caCert, certDir, certFile: files.serverCert, keyFile: files.serverKey };
}
