import type { Logger } from 'pino';
import type { RequestObserver } from './request-record.js';

/** One structured `request` line per finished request, at level info. */
export function requestLog(log: Logger): RequestObserver {
  return (record, figures) => {
    if (!log.isLevelEnabled('info')) return;
    log.info(
      {
        requestId: record.id,
        door: record.door,
        action: record.action,
        repository: record.repository,
        principal: record.principal?.arn,
        method: figures.method,
        path: figures.path,
        status: figures.status,
        errorCode: record.errorCode,
        bytesIn: figures.bytesIn,
        bytesOut: figures.bytesOut,
        durationMs: Math.round(figures.durationSeconds * 1e6) / 1e3,
        clientIp: figures.clientIp,
        userAgent: figures.userAgent,
        completed: figures.completed ? undefined : false,
      },
      'request',
    );
  };
}
