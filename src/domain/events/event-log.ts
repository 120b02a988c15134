import type { EventStore, StoredEvent } from '../../store/meta/event-store.js';

export type { NewEvent, StoredEvent, EventType } from '../../store/meta/event-store.js';

/** Reads the event outbox: what changed, in commit order, for audit, deliveries and operators. */
export class EventLog {
  constructor(private readonly store: EventStore) {}

  list(filter: { after?: number; limit?: number; type?: string } = {}): Promise<StoredEvent[]> {
    return this.store.list(filter);
  }
}
