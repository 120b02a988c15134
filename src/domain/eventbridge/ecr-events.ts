import type { StoredEvent } from '../../store/meta/event-store.js';
import { repositoryArn } from '../registry/names.js';

/** An event in EventBridge's envelope, as a rule's pattern sees it and a target receives it. */
export interface EventEnvelope {
  version: '0';
  id: string;
  'detail-type': string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: Record<string, unknown>;
}

/**
 * The EventBridge events ECR sends for one change in the outbox (none for changes ECR does not
 * announce). Image actions send one event per tag, as ECR does. Each envelope id is derived from
 * the outbox event's id, so a retried delivery carries the same id and receivers can deduplicate.
 */
export function ecrEnvelopes(event: StoredEvent, region: string): EventEnvelope[] {
  // Only an account's private registry sends ECR events (ECR Public's namespace does not).
  if (!/^\d{12}$/.test(event.registryId)) return [];
  const base = { version: '0' as const, source: 'aws.ecr', account: event.registryId, time: isoSeconds(event.createdAt), region };
  const repositoryName = event.repositoryName;
  const detail = event.detail;
  const envelope = (n: number, detailType: string, resources: string[], body: Record<string, unknown>): EventEnvelope => ({
    ...base,
    id: n === 0 ? event.eventId : `${event.eventId.slice(0, 24)}${n.toString(16).padStart(12, '0')}`,
    'detail-type': detailType,
    resources,
    detail: body,
  });
  const perTag = (tags: Array<string | undefined>, make: (tag: string | undefined) => Record<string, unknown>, detailType: string, resources: string[] = []) =>
    (tags.length > 0 ? tags : [undefined]).map((tag, n) => envelope(n, detailType, resources, make(tag)));

  switch (event.type) {
    case 'image.pushed':
      return perTag([event.tag ?? undefined], (tag) => imageAction('PUSH', repositoryName, event.digest, tag), 'ECR Image Action');
    case 'image.deleted': {
      const tags = event.tag ? [event.tag] : stringList(detail.tags);
      return perTag(tags, (tag) => imageAction('DELETE', repositoryName, event.digest, tag), 'ECR Image Action');
    }
    case 'lifecycle.expired':
      return [
        envelope(0, 'ECR Lifecycle Policy Action', [repositoryArn(region, { registryId: event.registryId, name: repositoryName })], {
          'action-type': 'EXPIRE',
          result: 'SUCCESS',
          'repository-name': repositoryName,
          'image-digest': event.digest,
          'image-tags': stringList(detail.tags),
          ...(typeof detail.rulePriority === 'number' ? { 'rule-priority': detail.rulePriority } : {}),
        }),
      ];
    case 'image.storage-class-changed': {
      // Archive and restore: an image action, or a referrer action for an artifact with a subject.
      const isReferrer = detail.cause === 'subject-archived';
      return [
        envelope(0, isReferrer ? 'ECR Referrer Action' : 'ECR Image Action', [], {
          'action-type': 'UPDATE_STORAGE_CLASS',
          'target-storage-class': detail.targetStorageClass,
          result: 'SUCCESS',
          'repository-name': repositoryName,
          'image-digest': event.digest,
          'manifest-media-type': detail.mediaType,
          ...(typeof detail.configMediaType === 'string' ? { 'artifact-media-type': detail.configMediaType } : {}),
          ...(typeof detail.activatedAt === 'number' ? { 'last-activated-at': new Date(detail.activatedAt).toISOString() } : {}),
        }),
      ];
    }
    case 'scan.completed':
      return [
        envelope(0, 'ECR Image Scan', [repositoryArn(region, { registryId: event.registryId, name: repositoryName })], {
          'scan-status': detail['scan-status'] ?? 'COMPLETE',
          'repository-name': repositoryName,
          'finding-severity-counts': detail['finding-severity-counts'] ?? {},
          'image-digest': event.digest,
          'image-tags': stringList(detail['image-tags']),
        }),
      ];
    default:
      return [];
  }
}

function imageAction(action: 'PUSH' | 'DELETE', repositoryName: string, digest: string | null, tag: string | undefined): Record<string, unknown> {
  return {
    result: 'SUCCESS',
    'repository-name': repositoryName,
    'image-digest': digest,
    'action-type': action,
    ...(tag === undefined ? {} : { 'image-tag': tag }),
  };
}

function stringList(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

export function isoSeconds(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}
