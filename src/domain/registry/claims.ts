import { randomUUID } from 'node:crypto';
import type { MetadataStore } from '../../store/meta/metadata-store.js';

/** How long a claim lasts unless renewed, in ms; it is renewed every third of that while held. */
export const CLAIM_MS = 30_000;
const RETRY_MS = 20;

/** This node's id: every claim it takes is held under it (see `releaseClaimsOfEarlierRuns`). */
let nodeId: string = randomUUID();

/** Names this node, with an id kept in its data dir, so that a restart can release what a crash left. */
export function setClaimNode(id: string): void {
  nodeId = id;
}

/** A holder token for one claim by this node. */
export function newClaimHolder(): string {
  return `${nodeId}:${randomUUID()}`;
}

/**
 * Releases every claim this node held before it restarted (a kill -9 leaves them behind), so work
 * they guarded goes on at once instead of after they lapse. Only a serving node may call this: its
 * earlier run is over, while another process on the same data dir (an admin command) takes none.
 */
export function releaseClaimsOfEarlierRuns(meta: MetadataStore): Promise<void> {
  return meta.releaseClaimsHeldBy(`${nodeId}:`);
}

/**
 * Runs `work` while holding the named claim in the metadata store, so that no other node (or
 * process) runs work under the same name at the same time; waits for the claim while another
 * holds it. A holder that dies stops renewing, and its claim lapses after CLAIM_MS (or at once when
 * its node restarts).
 */
export async function whileClaimed<T>(meta: MetadataStore, name: string, work: () => Promise<T>, waitMs = 10 * 60_000): Promise<T> {
  const holder = newClaimHolder();
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
