import type { AuditTrailStore } from '../../store/meta/audit-store.js';
import { auditCallRow, type AuditedCall } from './cloudtrail-record.js';

/** A recorded call as the trail keeps it until it is written; `json` when the writer takes calls as JSON. */
export interface HeldCall {
  call: AuditedCall;
  json?: string;
}

/** A held call with the event id its record is stored under (kept when a write is retried). */
export type NumberedCall = HeldCall & { eventId: string };

/** What turns recorded calls into stored rows, and deletes old ones: the one writer of a trail. */
export interface AuditWriter {
  /**
   * True when the writer takes each call as JSON, made as the call is recorded: then its objects are
   * fresh in memory, and serializing them costs a fraction of what it costs once a batch is full.
   */
  readonly takesJson: boolean;
  write(calls: NumberedCall[]): Promise<void>;
  /** Deletes rows older than `before` (epoch ms); returns how many. */
  prune(before: number): Promise<number>;
  close(): Promise<void>;
}

/** Builds the rows and writes them on the calling thread. */
export function inThreadWriter(store: () => AuditTrailStore): AuditWriter {
  return {
    takesJson: false,
    write: (calls) => store().append(calls.map(({ call, eventId }) => auditCallRow(call, eventId))),
    prune: (before) => store().prune(before),
    close: async () => undefined,
  };
}
