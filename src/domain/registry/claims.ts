import { randomUUID } from 'node:crypto';
import type { MetadataStore } from '../../store/meta/metadata-store.js';

/** How long a claim lasts unless renewed, in ms; it is renewed every third of that while held. */
const CLAIM_MS = 60_000;
const RETRY_MS = 20;

/**
 * Runs `work` while holding the named claim in the metadata store, so that no other node (or
 * process) runs work under the same name at the same time; waits for the claim while another
 * holds it. A holder that dies stops renewing, and its claim lapses after a minute.
 */
export async function whileClaimed<T>(meta: MetadataStore, name: string, work: () => Promise<T>, waitMs = 10 * 60_000): Promise<T> {
  const holder = randomUUID();
  const deadline = Date.now() + waitMs;
  while (!(await meta.takeClaim(name, holder, Date.now() + CLAIM_MS))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${name}`);
    await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
  }
  const renewal = setInterval(() => void meta.renewClaim(name, holder, Date.now() + CLAIM_MS).catch(() => undefined), CLAIM_MS / 3);
  renewal.unref();
  try {
    return await work();
  } finally {
    clearInterval(renewal);
    await meta.releaseClaim(name, holder).catch(() => undefined);
  }
}
