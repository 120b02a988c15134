import { randomUUID } from 'node:crypto';
import type { SqlDb, SqlValue } from './sql.js';

/** What ECR reports; other strings are allowed for features that add their own. */
export type EventType =
  | 'image.pushed'
  | 'image.deleted'
  | 'lifecycle.expired'
  | 'repository.created'
  | 'repository.deleted'
  | 'scan.completed'
  | 'image.storage-class-changed'
  | (string & {});

/**
 * One change to record in the outbox. Append it with an EventStore over the same `SqlDb` as the
 * change itself, so both commit or neither does:
 *
 *   await meta.transaction(async (tx) => {
 *     await tx.putTag(repo.id, 'latest', digest);
 *     await tx.events.append({ type: 'image.pushed', registryId, repositoryName: repo.name, digest, tag: 'latest' });
 *   });
 */
export interface NewEvent {
  type: EventType;
  /** The account (ECR registry id) the repository belongs to. */
  registryId: string;
  repositoryName: string;
  /** The image's manifest digest, for image events. */
  digest?: string;
  /** The tag the change was made through, if any. */
  tag?: string;
  /** Anything else consumers need (media type, rule priority, finding counts…); stored as JSON. */
  detail?: Record<string, unknown>;
  /** Epoch ms; defaults to now. */
  createdAt?: number;
}

export interface StoredEvent {
  /** Position in the outbox: increases with every append, in commit order. */
  seq: number;
  /** A uuid, stable across deliveries: consumers deduplicate on it. */
  eventId: string;
  type: EventType;
  registryId: string;
  repositoryName: string;
  digest: string | null;
  tag: string | null;
  detail: Record<string, unknown>;
  createdAt: number;
}

interface RawEvent {
  seq: number | string;
  event_id: string;
  type: string;
  registry_id: string;
  repository_name: string;
  digest: string | null;
  tag: string | null;
  detail: string;
  created_at: number | string;
}

function toEvent(r: RawEvent): StoredEvent {
  return {
    seq: Number(r.seq),
    eventId: r.event_id,
    type: r.type,
    registryId: r.registry_id,
    repositoryName: r.repository_name,
    digest: r.digest,
    tag: r.tag,
    detail: JSON.parse(r.detail) as Record<string, unknown>,
    createdAt: Number(r.created_at),
  };
}

const OUTBOX_LOCK = 'events-outbox';

/** The outbox: changes as events, in the order they committed. */
export class EventStore {
  constructor(private readonly db: SqlDb) {}

  async append(event: NewEvent): Promise<StoredEvent> {
    // Under the outbox lock until the (caller's) transaction commits: sequence numbers are handed
    // out in commit order, so a reader paging with `after` never skips an event that commits late.
    const row = await this.db.transaction(async (tx) => {
      await tx.lock(OUTBOX_LOCK);
      return tx.get<RawEvent>(
        `INSERT INTO events (event_id, type, registry_id, repository_name, digest, tag, detail, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`,
        [
          randomUUID(),
          event.type,
          event.registryId,
          event.repositoryName,
          event.digest ?? null,
          event.tag ?? null,
          JSON.stringify(event.detail ?? {}),
          event.createdAt ?? Date.now(),
        ],
      );
    }, OUTBOX_LOCK);
    return toEvent(row!);
  }

  /** The sequence number of the newest event, 0 when there is none. */
  async lastSeq(): Promise<number> {
    const row = await this.db.get<{ seq: number | string | null }>('SELECT MAX(seq) AS seq FROM events');
    return Number(row?.seq ?? 0);
  }

  /** Events after sequence number `after` (default: from the start), oldest first. */
  async list(opts: { after?: number; limit?: number; type?: EventType } = {}): Promise<StoredEvent[]> {
    const params: SqlValue[] = [opts.after ?? 0];
    let where = 'seq > ?';
    if (opts.type !== undefined) {
      where += ' AND type = ?';
      params.push(opts.type);
    }
    const rows = await this.db.all<RawEvent>(`SELECT * FROM events WHERE ${where} ORDER BY seq LIMIT ?`, [...params, opts.limit ?? 100]);
    return rows.map(toEvent);
  }
}
