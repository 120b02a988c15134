import { mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

/** The data dir cannot be created or written; the message names the directory and the reason. */
export class DataDirError extends Error {}

/**
 * Creates the data dir (and its missing parents) and proves it writable, failing at once with a clear
 * message. Node's recursive mkdir never returns on some paths (e.g. under /proc), so each missing
 * level is created on its own.
 */
export async function prepareDataDir(dir: string): Promise<void> {
  const path = resolve(dir);
  try {
    await createLevels(path);
    const probe = `${path}/.write-probe-${process.pid}`;
    await writeFile(probe, '');
    await rm(probe, { force: true });
  } catch (err) {
    if (err instanceof DataDirError) throw err;
    throw new DataDirError(`cannot use data dir ${path}: ${reason(err)}`);
  }
}

async function createLevels(path: string): Promise<void> {
  const missing: string[] = [];
  for (let level = path; ; level = dirname(level)) {
    const kind = await kindOf(level);
    if (kind === 'directory') break;
    if (kind === 'other') throw new DataDirError(`cannot use data dir ${path}: ${level} exists and is not a directory`);
    missing.unshift(level);
    if (dirname(level) === level) break;
  }
  for (const level of missing) {
    try {
      await mkdir(level);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || (await kindOf(level)) !== 'directory') throw err;
    }
  }
}

async function kindOf(path: string): Promise<'directory' | 'other' | 'missing'> {
  try {
    return (await stat(path)).isDirectory() ? 'directory' : 'other';
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw err;
  }
}

function reason(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  const known: Record<string, string> = {
    ENOENT: 'a parent directory cannot hold it',
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    EROFS: 'the file system is read-only',
    ENOSPC: 'no space left on the device',
    ENOTDIR: 'a parent is not a directory',
  };
  return (e.code && known[e.code]) ?? e.message ?? String(err);
}
