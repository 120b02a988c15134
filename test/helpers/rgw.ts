// A real S3 server for tests: Ceph's RADOS Gateway on a one-node cluster (start-rgw.sh) on free
// loopback ports, in a short private directory, stopped by the PIDs its daemons write there. One per
// test file, shared by its tests. It fails loudly when it cannot start (the Debian packages ceph-mon,
// ceph-osd, radosgw, ceph-common and uuid-runtime, and root, are needed): tests never skip silently.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort, REPO_ROOT } from './berth.js';
import { run } from './tools.js';

export interface Rgw {
  /** http://127.0.0.1:<port> */
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  /** The environment that points berth at this gateway (BERTH_S3_*), bucket and prefix aside. */
  berthEnv: Record<string, string>;
  /** The gateway's own KMS key for SSE-KMS (`BERTH_S3_SSE=aws:kms`). */
  sseKmsKeyId: string;
  /** Reads every object of a RADOS pool as it is stored, below the gateway (`rados get`). */
  radosObjects(pool: string): Promise<Buffer[]>;
  stop(): Promise<void>;
}

const START_SCRIPT = join(REPO_ROOT, 'test', 'helpers', 'start-rgw.sh');
const DAEMONS = ['client.rgw', 'osd.0', 'mon.a'];
const ACCESS_KEY = 'TESTACCESSKEY';
const SECRET_KEY = 'TESTSECRETKEY';

export async function startRgw(): Promise<Rgw> {
  // Short: Ceph's admin socket paths must stay under 107 bytes.
  const dir = await mkdtemp('/tmp/rgw-');
  const stopNow = () => stopDaemons(dir);
  process.once('exit', stopNow);
  const stop = async () => {
    process.removeListener('exit', stopNow);
    stopNow();
  };
  try {
    for (let attempt = 1; ; attempt++) {
      const [monPort, rgwPort] = [await freePort(), await freePort()];
      const res = await run('bash', [START_SCRIPT, dir], {
        timeoutMs: 120_000,
        check: false,
        env: { MON_PORT: String(monPort), RGW_PORT: String(rgwPort), RGW_ACCESS_KEY: ACCESS_KEY, RGW_SECRET_KEY: SECRET_KEY },
      });
      if (res.code === 0) {
        const endpoint = `http://127.0.0.1:${rgwPort}`;
        return {
          endpoint,
          accessKeyId: ACCESS_KEY,
          secretAccessKey: SECRET_KEY,
          region: 'us-east-1',
          berthEnv: {
            BERTH_S3_ENDPOINT: endpoint,
            BERTH_S3_REGION: 'us-east-1',
            BERTH_S3_FORCE_PATH_STYLE: 'true',
            BERTH_S3_ACCESS_KEY_ID: ACCESS_KEY,
            BERTH_S3_SECRET_ACCESS_KEY: SECRET_KEY,
          },
          sseKmsKeyId: 'berth-test-key',
          radosObjects: (pool) => radosObjects(dir, pool),
          stop,
        };
      }
      stopDaemons(dir, false);
      // Another process may have taken a port between freePort() and the daemon's bind.
      if (attempt === 2) {
        throw new Error(
          `Ceph RADOS Gateway did not start (needs root and the Debian packages ceph-mon ceph-osd radosgw ceph-common uuid-runtime):\n` +
            `${res.stdout}\n${res.stderr}\n${logTails(dir)}`,
        );
      }
    }
  } catch (e) {
    await stop();
    throw e;
  }
}

/** SIGKILL by PID (the data lives in memory and is thrown away), wait until gone, remove the directory. */
function stopDaemons(dir: string, removeDir = true): void {
  const pids: number[] = [];
  for (const name of DAEMONS) {
    const pidFile = join(dir, 'run', `${name}.pid`);
    if (!existsSync(pidFile)) continue;
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    if (!Number.isInteger(pid) || pid <= 1) continue;
    try {
      process.kill(pid, 'SIGKILL');
      pids.push(pid);
    } catch {
      // gone already
    }
  }
  for (let i = 0; i < 200 && pids.some(alive); i++) spawnSync('sleep', ['0.05']);
  if (removeDir) rmSync(dir, { recursive: true, force: true });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function logTails(dir: string): string {
  const out: string[] = [];
  for (const f of ['log/mon.a.log', 'log/osd.out', 'log/osd.0.log', 'log/client.rgw.log']) {
    const p = join(dir, f);
    if (existsSync(p)) out.push(`--- ${f} ---\n${readFileSync(p, 'utf8').slice(-1500)}`);
  }
  return out.join('\n');
}

async function radosObjects(dir: string, pool: string): Promise<Buffer[]> {
  const env = { CEPH_CONF: join(dir, 'ceph.conf') };
  const names = (await run('rados', ['-p', pool, 'ls'], { env, timeoutMs: 60_000 })).stdout.split('\n').filter(Boolean);
  const out: Buffer[] = [];
  for (const name of names) {
    const file = join(dir, 'object.bin');
    await run('rados', ['-p', pool, 'get', name, file], { env, timeoutMs: 60_000 });
    out.push(readFileSync(file));
  }
  return out;
}
