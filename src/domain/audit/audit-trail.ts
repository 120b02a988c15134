import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { AUDIT_ROWS_PER_INSERT, type AuditQuery, type AuditRow, type AuditTrailStore } from '../../store/meta/audit-store.js';
import { inThreadWriter, type AuditWriter, type HeldCall, type NumberedCall } from './audit-writer.js';
import { withRecord, type AuditedCall } from './cloudtrail-record.js';

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
  /** Who writes the rows (and prunes them); default: built and written on this thread, into `store`. */
  writer?: AuditWriter;
}

/**
 * The audit trail: calls are recorded without waiting (the request is answered meanwhile) and
 * written in batches; `close()` writes everything still waiting, so a clean shutdown loses none.
 * A crash of the process loses the calls still waiting to be written: those of about the last
 * `flushMs`, more while the database is slow or refuses writes.
 */
export class AuditTrail {
  private pending: HeldCall[] = [];
  /** Calls numbered but not yet written (a write failed): written first, with the same event ids. */
  private unwritten: NumberedCall[] = [];
  private timer?: NodeJS.Timeout;
  private writing: Promise<void> = Promise.resolve();
  private closed = false;
  /** User ids by account/name: a string once known, a promise while it is being looked up. */
  private readonly userIds = new Map<string, string | Promise<string | undefined>>();
  /** Calls dropped because too many were waiting, and calls that failed to be written. */
  dropped = 0;
  written = 0;
  private readonly flushMs: number;
  private readonly batchSize: number;
  private readonly maxPending: number;
  private readonly writer: AuditWriter;
  // Event ids are UUID-shaped: a random prefix per trail and a counter. Unique across processes and
  // nodes like random ones, but each process's ids follow one another, so the primary key index
  // grows at a few places instead of at random ones (measured: about a third of the insert).
  private readonly eventIdPrefix = randomUUID().slice(0, 24);
  private eventCount = 0;

  constructor(
    private readonly store: () => AuditTrailStore,
    private readonly opts: AuditTrailOptions = {},
  ) {
    this.flushMs = opts.flushMs ?? 200;
    this.batchSize = opts.batchSize ?? AUDIT_ROWS_PER_INSERT;
    this.maxPending = opts.maxPending ?? 100_000;
    this.writer = opts.writer ?? inThreadWriter(store);
  }

  /** Records a call; returns at once. */
  record(call: AuditedCall): void {
    if (this.pending.length >= this.maxPending) {
      if (this.dropped++ % 10_000 === 0) this.opts.log?.error({ dropped: this.dropped }, 'audit trail: too many calls waiting to be written; dropping');
      return;
    }
    this.pending.push(this.writer.takesJson ? { call, json: JSON.stringify(call) } : { call });
    if (this.closed) return;
    if (this.pending.length >= this.batchSize) this.flushSoon(0);
    else this.flushSoon(this.flushMs);
  }

  get waiting(): number {
    return this.pending.length + this.unwritten.length;
  }

  /** Writes everything recorded so far. */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.writing = this.writing.then(() => this.writeAll());
    return this.writing;
  }

  /** Writes what is waiting, stops the timer and the writer; calls recorded later are written by the next flush(). */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
    await this.writer.close();
  }

  /** The rows with their CloudTrail records. */
  async lookup(q: AuditQuery): Promise<AuditRow[]> {
    return (await this.store().lookup(q)).map(withRecord);
  }

  /** Deletes records older than `retentionDays`; returns how many. */
  prune(retentionDays: number, now = Date.now()): Promise<number> {
    return this.writer.prune(now - retentionDays * 24 * 60 * 60 * 1000);
  }

  private flushSoon(ms: number): void {
    if (this.timer && ms > 0) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.flush(), ms);
    this.timer.unref();
  }

  private async writeAll(): Promise<void> {
    while (this.unwritten.length > 0 || this.pending.length > 0) {
      if (this.unwritten.length === 0) {
        const batch = this.pending.splice(0, this.batchSize);
        await this.resolveUserIds(batch);
        this.unwritten = batch as NumberedCall[];
        for (const held of this.unwritten) {
          held.call.principalId ??= this.knownUserId(held.call);
          held.eventId = this.nextEventId();
        }
      }
      try {
        await this.writer.write(this.unwritten);
        this.written += this.unwritten.length;
        this.unwritten = [];
      } catch (err) {
        this.opts.log?.error({ err, waiting: this.waiting }, 'audit trail: writing failed; will retry');
        if (!this.closed) this.flushSoon(1000);
        return;
      }
    }
  }

  private nextEventId(): string {
    return this.eventIdPrefix + (++this.eventCount).toString(16).padStart(12, '0');
  }

  private userKey(call: AuditedCall): string | undefined {
    const { principal } = call;
    if (principal.anonymous || !principal.userName || !this.opts.userIdOf) return undefined;
    return `${principal.account}/${principal.userName}`;
  }

  private knownUserId(call: AuditedCall): string | undefined {
    const key = this.userKey(call);
    const id = key === undefined ? undefined : this.userIds.get(key);
    return typeof id === 'string' ? id : undefined;
  }

  /** Looks up the ids of the batch's users not seen before (once each). */
  private async resolveUserIds(batch: HeldCall[]): Promise<void> {
    const lookups: Array<Promise<unknown>> = [];
    for (const { call } of batch) {
      const key = this.userKey(call);
      if (key === undefined || this.userIds.has(key)) continue;
      if (this.userIds.size >= 10_000) this.userIds.clear();
      const lookup = this.opts.userIdOf!(call.principal.account, call.principal.userName!)
        .catch(() => undefined)
        .then((id) => {
          if (id) this.userIds.set(key, id);
          else this.userIds.delete(key);
          return id;
        });
      this.userIds.set(key, lookup);
      lookups.push(lookup);
    }
    await Promise.all(lookups);
  }
}
