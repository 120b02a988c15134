import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

/**
 * Before a run that writes: `sync`, so no write-back from an earlier run (Distribution does not
 * flush its writes) lands in this one, then a pause, so a virtual disk with a burst budget starts
 * every run with the same budget.
 */
export async function settleDisk(seconds: number): Promise<void> {
  await promisify(execFile)('sync');
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
}
