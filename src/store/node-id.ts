import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const NODE_ID_FILE = 'node-id';

/** This node's id, kept in its data dir so that it survives restarts (created on first use). */
export async function readOrCreateNodeId(dataDir: string): Promise<string> {
  const file = join(dataDir, NODE_ID_FILE);
  const existing = (await readFile(file, 'utf8').catch(() => '')).trim();
  if (/^[0-9a-f]{32}$/.test(existing)) return existing;
  const id = randomBytes(16).toString('hex');
  await writeFile(file, id + '\n', { mode: 0o644 });
  return id;
}
