import type { Logger } from 'pino';
import type { MetadataStore } from '../../store/meta/metadata-store.js';
import { isExcludedPrincipal } from './pull-time-exclusions.js';

interface PendingPull {
  registryId: string;
  repoId: string;
  digest: string;
  /** Who pulled; undefined when the caller is not known (then the pull always counts). */
  principalArn: string | undefined;
  at: number;
}

/**
 * Records image pulls for ECR's lastRecordedPullTime. Pulls are batched in memory and written
 * once per interval, so a burst of pulls costs one write per image rather than one per request.
 * A pull by a principal on the registry's pull-time update exclusion list is not recorded.
 */
export class PullRecorder {
  private readonly pending = new Map<string, PendingPull>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly meta: MetadataStore,
    private readonly log?: Logger,
    private readonly intervalMs = 1000,
  ) {}

  record(repo: { id: string; registryId: string }, digest: string, principalArn?: string): void {
    // One entry per puller, so an excluded principal's pull never hides another's.
    this.pending.set(`${repo.id} ${digest} ${principalArn ?? ''}`, { registryId: repo.registryId, repoId: repo.id, digest, principalArn, at: Date.now() });
    if (!this.timer) {
      this.timer = setInterval(() => void this.flush(), this.intervalMs);
      this.timer.unref();
    }
  }

  flush(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      if (this.pending.size === 0) return;
      const batch = [...this.pending.values()];
      this.pending.clear();
      try {
        await this.meta.recordPulls(await this.counted(batch));
      } catch (err) {
        this.log?.warn({ err }, 'could not record pulls');
      }
    });
    return this.flushing;
  }

  /** The pulls that update lastRecordedPullTime: not excluded, the latest per image. */
  private async counted(batch: PendingPull[]): Promise<Array<{ repoId: string; digest: string; at: number }>> {
    const exclusions = new Map<string, string[]>();
    for (const registryId of new Set(batch.filter((p) => p.principalArn).map((p) => p.registryId))) {
      exclusions.set(registryId, (await this.meta.pullExclusions.list(registryId)).map((e) => e.principalArn));
    }
    const latest = new Map<string, { repoId: string; digest: string; at: number }>();
    for (const p of batch) {
      const excluded = p.principalArn !== undefined && (exclusions.get(p.registryId) ?? []).some((arn) => isExcludedPrincipal(p.principalArn!, arn));
      if (excluded) continue;
      const key = `${p.repoId} ${p.digest}`;
      if ((latest.get(key)?.at ?? -1) < p.at) latest.set(key, { repoId: p.repoId, digest: p.digest, at: p.at });
    }
    return [...latest.values()];
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }
}
