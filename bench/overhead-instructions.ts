// What a change costs on the manifest GET row, counted in instructions rather than timed: berth
// from this checkout (A) and a build of another checkout (B) each run under valgrind's callgrind,
// take a warm-up, and then serve a fixed number of manifest GETs with counting on. Reports the
// instructions the main (request) thread executed per request, per run and as the median ratio.
//
// Timing cannot resolve a few per cent on a shared machine (two runs of one build measured up to
// 20% apart in paired, interleaved rounds); the count of instructions moves by about 1% between
// runs. It leaves out what the kernel does (system calls) and the other threads (the collector's
// helpers, whose share moves with timing), and it is a proxy for time, not time itself.
//
//   BENCH_OVERHEAD_BASE=/path/to/other/checkout node --import tsx bench/overhead-instructions.ts
//
// BENCH_OVERHEAD_CANDIDATE=/path/to/a/checkout counts that one as A instead of this checkout.
// BENCH_OVERHEAD_RUNS (default 2), BENCH_OVERHEAD_REQUESTS (counted, default 3000),
// BENCH_OVERHEAD_WARMUP (requests before counting, default 8000), BENCH_OVERHEAD_CONNECTIONS
// (default 4), BENCH_BERTH_LOG_LEVEL (default info). Both checkouts must be built (npm run build).
// Needs valgrind (Debian package valgrind).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { openSync, readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { berthAuthorization } from './berth-auth.js';
import { MANIFEST_ACCEPT } from './registry-client.js';
import { findOnPath, freePort, REPO_ROOT, type RunningServer } from './servers.js';
import { median } from './stats.js';
import { MANIFEST_REPO, MANIFEST_TAG, prepareManifestImage } from './workloads/manifest-load.js';

const base = process.env.BENCH_OVERHEAD_BASE;
const candidate = path.resolve(process.env.BENCH_OVERHEAD_CANDIDATE || REPO_ROOT);
if (!base) throw new Error('set BENCH_OVERHEAD_BASE to the checkout to compare against (built with npm run build)');
if (!findOnPath(['valgrind']) || !findOnPath(['callgrind_control'])) throw new Error('valgrind not found on PATH (install the valgrind package)');
const runs = Number(process.env.BENCH_OVERHEAD_RUNS ?? 2);
const counted = Number(process.env.BENCH_OVERHEAD_REQUESTS ?? 3000);
const warmup = Number(process.env.BENCH_OVERHEAD_WARMUP ?? 8000);
const connections = Number(process.env.BENCH_OVERHEAD_CONNECTIONS ?? 4);
const logLevel = process.env.BENCH_BERTH_LOG_LEVEL || 'info';
/** callgrind numbers its threads from 1, the main thread first. */
const MAIN_THREAD_SUFFIX = '-01';

/** `total` manifest GETs over `connections` kept-alive connections, each answered 200. */
async function manifestGets(origin: string, authorization: string, total: number): Promise<void> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const url = `${origin}/v2/${MANIFEST_REPO}/manifests/${MANIFEST_TAG}`;
  const headers = { accept: MANIFEST_ACCEPT, authorization, 'user-agent': 'berth-bench/1' };
  let left = total;
  const one = () =>
    new Promise<void>((resolve, reject) => {
      const req = http.get(url, { agent, headers }, (res) => {
        res.resume();
        res.once('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`manifest GET answered ${res.statusCode}`))));
      });
      req.once('error', reject);
    });
  try {
    await Promise.all(Array.from({ length: connections }, async () => {
      while (left-- > 0) await one();
    }));
  } finally {
    agent.destroy();
  }
}

/** Main-thread instructions per manifest GET of the build in `root`. */
async function count(root: string, label: string): Promise<number> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'berth-instructions-'));
  let child: ChildProcess | undefined;
  try {
    const port = await freePort();
    const out = openSync(path.join(dataDir, 'server.log'), 'w');
    const profile = path.join(dataDir, 'callgrind.out');
    const berth = [path.join(root, 'bin', 'berth.js'), 'serve', '--listen', `127.0.0.1:${port}`, '--data-dir', dataDir];
    child = spawn('valgrind', ['--tool=callgrind', '--instr-atstart=no', '--separate-threads=yes', `--callgrind-out-file=${profile}`, process.execPath, ...berth], {
      cwd: root,
      env: { ...process.env, BERTH_CREATE_ON_PUSH: 'true', BERTH_LOG_LEVEL: logLevel },
      stdio: ['ignore', out, out],
    });
    const origin = `http://127.0.0.1:${port}`;
    for (let i = 0; ; i++) {
      try {
        await (await fetch(`${origin}/v2/`)).arrayBuffer();
        break;
      } catch {
        if (i > 1500 || child.exitCode !== null) throw new Error(`${label} did not start under valgrind (see ${dataDir}/server.log)`);
        await sleep(200);
      }
    }
    const authorization = await berthAuthorization(origin, dataDir);
    await prepareManifestImage({ kind: 'berth', label, origin, dataDir, pid: child.pid!, version: label, authorization } as RunningServer);
    await manifestGets(origin, authorization, warmup);
    const pid = String(child.pid);
    execFileSync('callgrind_control', ['--instr=on', pid], { stdio: 'ignore' });
    await manifestGets(origin, authorization, counted);
    execFileSync('callgrind_control', ['--dump', pid], { stdio: 'ignore' });
    const dump = readdirSync(dataDir).find((f) => f.startsWith('callgrind.out') && f.endsWith(MAIN_THREAD_SUFFIX));
    const total = dump && /^(?:summary|totals): (\d+)/m.exec(readFileSync(path.join(dataDir, dump), 'utf8'));
    if (!total) throw new Error(`${label}: callgrind wrote no main-thread counts`);
    return Number(total[1]) / counted;
  } finally {
    child?.kill('SIGTERM');
    await sleep(2000);
    child?.kill('SIGKILL');
    await rm(dataDir, { recursive: true, force: true });
  }
}

const labels = ['A (candidate)', 'B (base)'];
const roots = [candidate, path.resolve(base)];
const perRequest: number[][] = [[], []];
for (let run = 1; run <= runs; run++) {
  const order = run % 2 === 1 ? [0, 1] : [1, 0];
  for (const i of order) {
    const n = await count(roots[i]!, labels[i]!);
    perRequest[i]!.push(n);
    process.stderr.write(`run ${run} ${labels[i]}: ${(n / 1e3).toFixed(1)} k instructions/request (main thread)\n`);
  }
}
const ratios = perRequest[0]!.map((a, k) => a / perRequest[1]![k]!);
console.log(`manifest GET by tag, ${connections} connections, ${counted} requests counted after ${warmup}, ${runs} runs, log level ${logLevel}`);
console.log(`| server | main-thread instructions/request (median) |`);
console.log(`|---|---:|`);
for (const i of [0, 1]) console.log(`| ${labels[i]} | ${(median(perRequest[i]!) / 1e3).toFixed(1)} k |`);
console.log(`| A/B, median of per-run ratios | ${median(ratios).toFixed(3)} |`);
