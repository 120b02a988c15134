// Running external programs (skopeo, podman, umoci, ...) from tests: timeouts, captured output,
// and errors that say exactly what ran and what it printed.
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RunOptions {
  /** Kill the process (SIGKILL) after this many milliseconds. Default 120 s. */
  timeoutMs?: number;
  /** Written to stdin, then stdin is closed. */
  input?: string | Buffer;
  /** Extra environment variables (merged over process.env). */
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Throw a CommandError when the exit code is not 0 (default true). */
  check?: boolean;
}

export interface RunResult {
  command: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  durationMs: number;
}

const MAX_CAPTURE = 4 * 1024 * 1024;

function quote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

export function describeCommand(cmd: string, args: readonly string[]): string {
  return [cmd, ...args].map(quote).join(' ');
}

function tail(text: string, max = 4000): string {
  return text.length > max ? `…${text.slice(-max)}` : text;
}

export class CommandError extends Error {
  constructor(readonly result: RunResult) {
    super(
      `command failed (${result.timedOut ? 'timed out' : result.signal ? `signal ${result.signal}` : `exit ${result.code}`}` +
        ` after ${result.durationMs} ms): ${result.command}\n--- stdout ---\n${tail(result.stdout)}\n--- stderr ---\n${tail(result.stderr)}`,
    );
    this.name = 'CommandError';
  }
}

/** Runs a command to completion, capturing stdout and stderr. */
export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const started = Date.now();
  const command = describeCommand(cmd, args);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: { ...process.env, ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      if (stdout.length < MAX_CAPTURE) stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      if (stderr.length < MAX_CAPTURE) stderr += d;
    });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs ?? 120_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${command}: ${err.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const result: RunResult = { command, code, signal, stdout, stderr, timedOut, durationMs: Date.now() - started };
      if ((opts.check ?? true) && code !== 0) reject(new CommandError(result));
      else resolve(result);
    });
    child.stdin.on('error', () => {
      /* the program may exit before reading its input */
    });
    child.stdin.end(opts.input ?? '');
  });
}

// ---------------------------------------------------------------------------------------------
// skopeo

/** `skopeo <args>`; for the plain-HTTP loopback registry pass --(src|dest)-tls-verify=false yourself. */
export function skopeo(args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return run('skopeo', args, { timeoutMs: 180_000, ...opts });
}

/** skopeo credential flags for a registry that may or may not need auth. */
export function skopeoCreds(flag: '--creds' | '--src-creds' | '--dest-creds', password: string | undefined): string[] {
  return password === undefined ? [] : [flag, `AWS:${password}`];
}

// ---------------------------------------------------------------------------------------------
// podman

/** A podman with its own storage, run state, temp dir and auth file, so test runs never collide. */
export interface Podman {
  root: string;
  runroot: string;
  tmpdir: string;
  authFile: string;
  /** Global flags put before every subcommand. */
  globalArgs: string[];
  /** `podman <global flags> <args>` */
  cmd(args: readonly string[], opts?: RunOptions): Promise<RunResult>;
  /** `podman login --username AWS --password-stdin --tls-verify=false <host>` (no-op without password). */
  login(host: string, password: string | undefined): Promise<void>;
  /** `podman run --rm` with the flags this machine needs; returns the result (stdout = container output). */
  runContainer(image: string, command?: readonly string[], opts?: RunOptions): Promise<RunResult>;
  cleanup(): Promise<void>;
}

export async function createPodman(): Promise<Podman> {
  const base = await mkdtemp(join(tmpdir(), 'berth-podman-'));
  const root = join(base, 'root');
  const runroot = join(base, 'runroot');
  const tmp = join(base, 'tmp');
  const authFile = join(base, 'auth.json');
  await writeFile(authFile, '{"auths":{}}\n');
  const globalArgs = [
    '--root', root,
    '--runroot', runroot,
    '--tmpdir', tmp,
    '--runtime', 'runc',
    '--storage-driver', 'vfs',
    '--cgroup-manager', 'cgroupfs',
    '--events-backend', 'file',
  ];
  const env = {
    REGISTRY_AUTH_FILE: authFile,
    TMPDIR: tmp,
    XDG_RUNTIME_DIR: join(base, 'xdg'),
  };
  const p: Podman = {
    root,
    runroot,
    tmpdir: tmp,
    authFile,
    globalArgs,
    cmd: (args, opts = {}) => run('podman', [...globalArgs, ...args], { timeoutMs: 180_000, ...opts, env: { ...env, ...opts.env } }),
    async login(host, password) {
      if (password === undefined) return;
      await p.cmd(['login', '--username', 'AWS', '--password-stdin', '--tls-verify=false', host], { input: password });
    },
    runContainer: (image, command = [], opts = {}) =>
      p.cmd(
        ['run', '--rm', '--tls-verify=false', '--network', 'none', '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024', image, ...command],
        opts,
      ),
    async cleanup() {
      await rm(base, { recursive: true, force: true }).catch(() => undefined);
    },
  };
  await mkdir(tmp, { recursive: true });
  await mkdir(join(base, 'xdg'), { recursive: true, mode: 0o700 });
  return p;
}

/** `podman <global flags for p> <args>` */
export function podmanCmd(p: Podman, args: readonly string[], opts?: RunOptions): Promise<RunResult> {
  return p.cmd(args, opts);
}

/** A fresh temporary directory, removed by the returned function. */
export async function tempDir(prefix: string): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), `berth-${prefix}-`));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/** The environment of a container client (skopeo, podman) with no credentials at all: an empty auth file, no docker config. */
export async function credentialFreeEnv(dir: string): Promise<Record<string, string>> {
  const emptyAuth = join(dir, 'empty-auth.json');
  await writeFile(emptyAuth, '{"auths":{}}\n');
  return { REGISTRY_AUTH_FILE: emptyAuth, XDG_RUNTIME_DIR: dir, DOCKER_CONFIG: dir };
}
