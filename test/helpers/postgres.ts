// A throwaway PostgreSQL server for tests: initdb in a temp dir, listen on a free loopback port,
// remove everything on stop() (and, as a last resort, when the test process exits).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './berth.js';
import { run } from './tools.js';

const INSTALL_ROOT = '/usr/lib/postgresql';

export interface Postgres {
  /** postgres://postgres@127.0.0.1:<port>/postgres (trust auth, superuser). */
  url: string;
  /** The same server, database `name`. */
  urlFor(name: string): string;
  /** Shuts the server down (clients lose their connections), runs `whileDown`, starts it again on the same port. */
  restart(whileDown?: () => Promise<void>): Promise<void>;
  stop(): Promise<void>;
}

/** The bin dir of the newest PostgreSQL under /usr/lib/postgresql/<version>/bin. */
export function findPostgresBin(): string {
  const versions = existsSync(INSTALL_ROOT)
    ? readdirSync(INSTALL_ROOT)
        .filter((v) => existsSync(join(INSTALL_ROOT, v, 'bin', 'initdb')) && existsSync(join(INSTALL_ROOT, v, 'bin', 'pg_ctl')))
        .sort((a, b) => Number.parseFloat(b) - Number.parseFloat(a))
    : [];
  if (versions.length === 0) {
    throw new Error(`no PostgreSQL server found: expected ${INSTALL_ROOT}/<version>/bin/{initdb,pg_ctl} (Debian package "postgresql")`);
  }
  return join(INSTALL_ROOT, versions[0]!, 'bin');
}

/** initdb refuses to run as root: then every server command runs as the `postgres` OS user. */
function asServerUser(cmd: string, args: string[]): [string, string[]] {
  return process.getuid?.() === 0 ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
}

function serverUserIds(): { uid: number; gid: number } {
  const id = (flag: string) => Number(spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' }).stdout.trim());
  const uid = id('-u');
  const gid = id('-g');
  if (!Number.isInteger(uid) || !Number.isInteger(gid)) throw new Error('running as root, but there is no "postgres" OS user to run PostgreSQL as');
  return { uid, gid };
}

/** `settings`: extra server settings (`-c name=value`), e.g. to preload an extension. */
export async function startPostgres(settings: Record<string, string> = {}): Promise<Postgres> {
  const bin = findPostgresBin();
  const dir = await mkdtemp(join(tmpdir(), 'berth-pg-'));
  const data = join(dir, 'data');
  const pgCtl = (args: string[], timeoutMs = 30_000) => {
    const [cmd, full] = asServerUser(join(bin, 'pg_ctl'), args);
    return run(cmd, full, { timeoutMs, check: false });
  };
  // Synchronous, so it also works from the 'exit' handler if the test process dies first.
  const emergencyStop = () => {
    const [cmd, full] = asServerUser(join(bin, 'pg_ctl'), ['stop', '-D', data, '-m', 'immediate', '-w']);
    spawnSync(cmd, full, { stdio: 'ignore', timeout: 10_000 });
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', emergencyStop);

  const stop = async () => {
    process.removeListener('exit', emergencyStop);
    // Harmless when no server runs: pg_ctl just says so.
    await pgCtl(['stop', '-D', data, '-m', 'immediate', '-w']);
    await rm(dir, { recursive: true, force: true });
  };

  try {
    if (process.getuid?.() === 0) {
      const { uid, gid } = serverUserIds();
      await chown(dir, uid, gid);
    }
    // A non-bytewise default collation (ICU en-US), as most real servers have, so tests notice
    // any ordering that silently depends on it.
    const [initCmd, initArgs] = asServerUser(join(bin, 'initdb'), [
      '-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8',
      '--locale=C.UTF-8', '--locale-provider=icu', '--icu-locale=en-US',
    ]);
    await run(initCmd, initArgs, { timeoutMs: 60_000 });

    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      const extra = Object.entries(settings).map(([k, v]) => ` -c ${k}=${v}`).join('');
      const opts = `-c listen_addresses=127.0.0.1 -p ${port} -k ${dir} -c fsync=off -c full_page_writes=off${extra}`;
      const res = await pgCtl(['start', '-D', data, '-w', '-t', '30', '-l', join(dir, 'server.log'), '-o', opts]);
      if (res.code === 0) {
        const urlFor = (name: string) => `postgres://postgres@127.0.0.1:${port}/${name}`;
        const restart = async (whileDown?: () => Promise<void>) => {
          await pgCtl(['stop', '-D', data, '-m', 'fast', '-w']);
          await whileDown?.();
          const again = await pgCtl(['start', '-D', data, '-w', '-t', '30', '-l', join(dir, 'server.log'), '-o', opts]);
          if (again.code !== 0) throw new Error(`pg_ctl start after stop failed:\n${again.stdout}\n${again.stderr}\n${tailOf(join(dir, 'server.log'))}`);
        };
        return { url: urlFor('postgres'), urlFor, restart, stop };
      }
      // Another process may have taken the port between freePort() and the server's bind.
      if (attempt === 3) throw new Error(`pg_ctl start failed:\n${res.stdout}\n${res.stderr}\n${tailOf(join(dir, 'server.log'))}`);
    }
  } catch (e) {
    await stop();
    throw e;
  }
}

function tailOf(file: string): string {
  return existsSync(file) ? readFileSync(file, 'utf8').slice(-3000) : '';
}
