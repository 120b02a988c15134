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
  while (!(await meta.takeClaim(name, holder, claimExpiry()))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${name}`);
    await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
  }
  const renewal = new ClaimRenewal((until) => meta.renewClaim(name, holder, until));
  try {
    return await work();
  } finally {
    renewal.stop();
    await meta.releaseClaim(name, holder).catch(() => undefined);
  }
}

/** When a claim taken or renewed now lapses unless renewed again. */
export function claimExpiry(): number {
  return Date.now() + CLAIM_MS;
}

/**
 * Keeps a held claim alive: renews it (to `claimExpiry()`) every third of CLAIM_MS until stopped,
 * and notes when a renewal finds it gone (this node stalled past its expiry and another took it).
 * A renewal that fails to reach the store is not a loss: the next one tries again.
 */
export class ClaimRenewal {
  private lost = false;
  private readonly timer: NodeJS.Timeout;

  constructor(renew: (until: number) => Promise<boolean>) {
    this.timer = setInterval(() => {
      renew(claimExpiry()).then(
        (held) => {
          if (!held) this.lost = true;
        },
        () => undefined,
      );
    }, CLAIM_MS / 3);
    this.timer.unref();
  }

  /** `body`, which stops with `lostError()` before another chunk once the claim is known lost. */
  async *guard(body: AsyncIterable<Buffer>, lostError: () => Error): AsyncIterable<Buffer> {
    for await (const chunk of body) {
      if (this.lost) throw lostError();
      yield chunk;
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
