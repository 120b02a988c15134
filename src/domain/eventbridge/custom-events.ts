import type { StoredEvent } from '../../store/meta/event-store.js';
import { isoSeconds, type EventEnvelope } from './ecr-events.js';

/** The outbox's type for an event a caller put on the bus with PutEvents. */
export const PUT_EVENT = 'eventbridge.put-event';

/** An event a caller puts on the default bus. */
export interface PutEvent {
  source: string;
  detailType: string;
  detail: Record<string, unknown>;
  resources: string[];
  /** Epoch ms the caller gave the event; default: when it was put. */
  time?: number;
}

/** The outbox row's detail for a put event. */
export function putEventDetail(event: PutEvent): Record<string, unknown> {
  return { source: event.source, detailType: event.detailType, detail: event.detail, resources: event.resources, ...(event.time !== undefined ? { time: event.time } : {}) };
}

/** A put event in EventBridge's envelope; its id is the outbox event's, so a retried delivery carries the same one. */
export function putEventEnvelope(event: StoredEvent, region: string): EventEnvelope {
  const d = event.detail as { source: string; detailType: string; detail: Record<string, unknown>; resources: string[]; time?: number };
  return {
    version: '0',
    id: event.eventId,
    'detail-type': d.detailType,
    source: d.source,
    account: event.registryId,
    time: isoSeconds(d.time ?? event.createdAt),
    region,
    resources: d.resources,
    detail: d.detail,
  };
}
