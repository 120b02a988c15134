import type { AuditTrailStore } from '../../store/meta/audit-store.js';
import { auditCallRow, type AuditedCall } from './cloudtrail-record.js';

/** A call with the event id its record is stored under (kept when a write is retried). */
export type NumberedCall = AuditedCall & { eventId: string };

/** What turns recorded calls into stored rows, and deletes old ones: the one writer of a trail. */
export interface AuditWriter {
  write(calls: NumberedCall[]): Promise<void>;
  /** Deletes rows older than `before` (epoch ms); returns how many. */
  prune(before: number): Promise<number>;
  close(): Promise<void>;
}

/** Builds the rows and writes them on the calling thread. */
export function inThreadWriter(store: () => AuditTrailStore): AuditWriter {
  return {
    write: (calls) => store().append(calls.map((call) => auditCallRow(call, call.eventId))),
    prune: (before) => store().prune(before),
    close: async () => undefined,
  };
}
