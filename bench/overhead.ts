// What a change costs on the manifest GET row, paired: berth from this checkout (A) against a
// build of another checkout (B, e.g. the commit before the change), both running at once, measured
// in turn A B A B… with wrk at one connection count. Reports per round and as medians the
// requests per second and the server's CPU time per request (user + system, from /proc), of the
// whole process and of its main (request) thread, which stay meaningful on a shared, noisy machine
// where requests per second alone swings.
//
//   BENCH_OVERHEAD_BASE=/path/to/other/checkout node --import tsx bench/overhead.ts
//
// BENCH_OVERHEAD_CANDIDATE=/path/to/a/checkout measures that one as A instead of this checkout.
// BENCH_OVERHEAD_ROUNDS (default 8), BENCH_MANIFEST_SECONDS (default 5), BENCH_OVERHEAD_CONNECTIONS
// (default 16), BENCH_BERTH_LOG_LEVEL (default info: the request log is part of the cost). The
// other checkout must be built (npm run build); this one is built if stale by `npm run bench` only,
// so build it first too. Server output goes to a file in each data dir.
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { berthAuthorization } from './berth-auth.js';
import { freePort, REPO_ROOT, type RunningServer } from './servers.js';
import { median } from './stats.js';
import { manifestLoad, prepareManifestImage } from './workloads/manifest-load.js';

const base = process.env.BENCH_OVERHEAD_BASE;
const candidate = path.resolve(process.env.BENCH_OVERHEAD_CANDIDATE || REPO_ROOT);
if (!base) throw new Error('set BENCH_OVERHEAD_BASE to the checkout to compare against (built with npm run build)');
const rounds = Number(process.env.BENCH_OVERHEAD_ROUNDS ?? 8);
const seconds = Number(process.env.BENCH_MANIFEST_SECONDS ?? 5);
const connections = Number(process.env.BENCH_OVERHEAD_CONNECTIONS ?? 16);
const logLevel = process.env.BENCH_BERTH_LOG_LEVEL || 'info';
const CLOCK_TICKS = 100; // USER_HZ on Linux

interface Server {
  label: string;
  child: ChildProcess;
  running: RunningServer;
}

/** CPU time of the whole process, or with `thread` of that thread alone (the main thread's id is the pid). */
function cpuSeconds(pid: number, thread?: number): number {
  const file = thread === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${thread}/stat`;
  const fields = readFileSync(file, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS; // utime, stime
}

async function start(label: string, root: string, dataDir: string): Promise<Server> {
  const port = await freePort();
  const out = openSync(path.join(dataDir, 'server.log'), 'w');
  const child = spawn(process.execPath, [path.join(root, 'bin', 'berth.js'), 'serve', '--listen', `127.0.0.1:${port}`, '--data-dir', dataDir], {
    cwd: root,
    env: { ...process.env, BERTH_CREATE_ON_PUSH: 'true', BERTH_LOG_LEVEL: logLevel },
    stdio: ['ignore', out, out],
  });
  const origin = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      const res = await fetch(`${origin}/v2/`);
      await res.arrayBuffer();
      break;
    } catch {
      if (i > 300) throw new Error(`${label} did not start`);
      await sleep(100);
    }
  }
  const authorization = await berthAuthorization(origin, dataDir);
  const running = { kind: 'berth', label, origin, dataDir, pid: child.pid!, version: label, authorization } as RunningServer;
  await prepareManifestImage(running);
  return { label, child, running };
}

async function main(): Promise<void> {
  const dirs = [await mkdtemp(path.join(tmpdir(), 'berth-overhead-a-')), await mkdtemp(path.join(tmpdir(), 'berth-overhead-b-'))];
  const servers = [await start('A (candidate)', candidate, dirs[0]!), await start('B (base)', path.resolve(base!), dirs[1]!)];
  const rps: number[][] = [[], []];
  const cpu: number[][] = [[], []];
  const mainCpu: number[][] = [[], []];
  try {
    for (const s of servers) await manifestLoad(s.running, 'GET', connections, 1); // warm-up
    for (let round = 1; round <= rounds; round++) {
      const order = round % 2 === 1 ? [0, 1] : [1, 0];
      for (const i of order) {
        const s = servers[i]!;
        const pid = s.running.pid;
        const [before, mainBefore] = [cpuSeconds(pid), cpuSeconds(pid, pid)];
        const r = await manifestLoad(s.running, 'GET', connections, seconds);
        const used = cpuSeconds(pid) - before;
        const mainUsed = cpuSeconds(pid, pid) - mainBefore;
        rps[i]!.push(r.rps);
        cpu[i]!.push((used / r.requests) * 1e6);
        mainCpu[i]!.push((mainUsed / r.requests) * 1e6);
        process.stderr.write(`round ${round} ${s.label}: ${r.rps.toFixed(0)} req/s, ${((used / r.requests) * 1e6).toFixed(1)} µs CPU/request (main thread ${((mainUsed / r.requests) * 1e6).toFixed(1)}), p99 ${r.p99Ms.toFixed(1)} ms\n`);
      }
    }
    const pairRps = rps[0]!.map((a, k) => a / rps[1]![k]!);
    const pairCpu = cpu[0]!.map((a, k) => a / cpu[1]![k]!);
    console.log(`manifest GET by tag, ${connections} conn (wrk), ${rounds} rounds of ${seconds} s, log level ${logLevel}`);
    const pairMain = mainCpu[0]!.map((a, k) => a / mainCpu[1]![k]!);
    console.log(`| server | req/s (median) | server CPU µs/request (median) | main thread CPU µs/request (median) |`);
    console.log(`|---|---:|---:|---:|`);
    for (const i of [0, 1]) console.log(`| ${servers[i]!.label} | ${median(rps[i]!).toFixed(0)} | ${median(cpu[i]!).toFixed(1)} | ${median(mainCpu[i]!).toFixed(1)} |`);
    console.log(`| A/B, median of per-round ratios | ${median(pairRps).toFixed(3)} | ${median(pairCpu).toFixed(3)} | ${median(pairMain).toFixed(3)} |`);
  } finally {
    for (const s of servers) s.child.kill('SIGTERM');
    await sleep(500);
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  }
}

await main();
