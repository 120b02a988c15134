import type { AuditTrail } from '../../domain/audit/audit-trail.js';
import type { RequestObserver } from './request-record.js';

/** Hands every call a door marked for the audit trail (and whose caller it knows) to the trail. */
export function auditObserver(trail: AuditTrail, region: string): RequestObserver {
  return (record, figures) => {
    const audit = record.audit;
    if (!audit || !record.principal) return;
    trail.record({
      requestId: record.id,
      time: record.startedAt,
      eventSource: audit.eventSource,
      eventName: audit.eventName,
      readOnly: audit.readOnly,
      principal: record.principal,
      sourceIp: figures.clientIp,
      userAgent: figures.userAgent,
      requestParameters: audit.requestParameters,
      responseElements: audit.responseElements,
      errorCode: audit.errorCode ?? record.errorCode ?? (figures.status >= 400 ? `HTTP${figures.status}` : undefined),
      errorMessage: record.errorMessage,
      recipientAccountId: audit.recipientAccountId,
      region,
    });
  };
}
