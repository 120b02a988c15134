import type { Logger } from 'pino';
import type { AuditQuery, AuditRow, AuditStore } from '../../store/meta/audit-store.js';
import { auditRow, type AuditedCall } from './cloudtrail-record.js';

export interface AuditTrailOptions {
  log?: Logger;
  /** How long a recorded call may wait before it is written; default 200 ms. */
  flushMs?: number;
  /** Written at once when this many are waiting; default 500. */
  batchSize?: number;
  /** More than this many waiting (the database is down or too slow) and new ones are dropped, counted and logged. */
  maxPending?: number;
  /** The unique id (AIDA…) of an IAM user, for userIdentity.principalId. */
  userIdOf?: (account: string, userName: string) => Promise<string | undefined>;
}

/**
 * The audit trail: calls are recorded without waiting (the request is answered meanwhile) and
 * written in batches; `close()` writes everything still waiting, so a clean shutdown loses none.
 */
export class AuditTrail {
  private pending: AuditedCall[] = [];
  private timer?: NodeJS.Timeout;
  private writing: Promise<void> = Promise.resolve();
  private closed = false;
  private readonly userIds = new Map<string, Promise<string | undefined>>();
  /** Calls dropped because too many were waiting, and calls that failed to be written. */
  dropped = 0;
  written = 0;
  private readonly flushMs: number;
  private readonly batchSize: number;
  private readonly maxPending: number;

  constructor(
    private readonly store: () => AuditStore,
    private readonly opts: AuditTrailOptions = {},
  ) {
    this.flushMs = opts.flushMs ?? 200;
    this.batchSize = opts.batchSize ?? 500;
    this.maxPending = opts.maxPending ?? 100_000;
  }

  /** Records a call; returns at once. */
  record(call: AuditedCall): void {
    if (this.pending.length >= this.maxPending) {
      if (this.dropped++ % 10_000 === 0) this.opts.log?.error({ dropped: this.dropped }, 'audit trail: too many calls waiting to be written; dropping');
      return;
    }
    this.pending.push(call);
    if (this.closed) return;
    if (this.pending.length >= this.batchSize) this.flushSoon(0);
    else this.flushSoon(this.flushMs);
  }

  get waiting(): number {
    return this.pending.length;
  }

  /** Writes everything recorded so far. */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.writing = this.writing.then(() => this.writeAll());
    return this.writing;
  }

  /** Writes what is waiting and stops the timer; calls recorded later are written by the next flush(). */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
  }

  lookup(q: AuditQuery): Promise<AuditRow[]> {
    return this.store().lookup(q);
  }

  /** Deletes records older than `retentionDays`; returns how many. */
  prune(retentionDays: number, now = Date.now()): Promise<number> {
    return this.store().prune(now - retentionDays * 24 * 60 * 60 * 1000);
  }

  private flushSoon(ms: number): void {
    if (this.timer && ms > 0) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.flush(), ms);
    this.timer.unref();
  }

  private async writeAll(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0, this.batchSize);
      try {
        const rows = await Promise.all(batch.map(async (call) => auditRow({ ...call, principalId: call.principalId ?? (await this.userId(call)) })));
        await this.store().append(rows);
        this.written += rows.length;
      } catch (err) {
        // Put them back for the next attempt, unless the queue is full.
        this.pending.unshift(...batch.slice(0, Math.max(0, this.maxPending - this.pending.length)));
        this.opts.log?.error({ err, waiting: this.pending.length }, 'audit trail: writing failed; will retry');
        if (!this.closed) this.flushSoon(1000);
        return;
      }
    }
  }

  private userId(call: AuditedCall): Promise<string | undefined> {
    const { principal } = call;
    if (principal.anonymous || !principal.userName || !this.opts.userIdOf) return Promise.resolve(undefined);
    const key = `${principal.account}/${principal.userName}`;
    let id = this.userIds.get(key);
    if (!id) {
      id = this.opts.userIdOf(principal.account, principal.userName).catch(() => undefined);
      this.userIds.set(key, id);
      if (this.userIds.size > 10_000) this.userIds.clear();
    }
    return id;
  }
}
