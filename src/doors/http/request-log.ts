import pino, { type Logger } from 'pino';
import type { RequestObserver } from './request-record.js';

export interface RequestLog {
  observer: RequestObserver;
  /** Writes out what is buffered; call on shutdown. */
  flush(): void;
}

/**
 * One structured `request` line per finished request, at level info, to stdout. Lines are
 * written in blocks of about 4 KiB, at least every `flushMs`: one write per request would be most
 * of the log's cost on small requests. All writes happen on the main thread, so they never
 * interleave with the other log lines on the same stream.
 */
export function createRequestLog(level: string, flushMs = 1000, fd = 1): RequestLog {
  const destination = pino.destination({ dest: fd, sync: true, minLength: 4096, periodicFlush: flushMs });
  const log = pino({ level, base: undefined }, destination);
  return {
    observer: requestLogObserver(log),
    flush: () => destination.flushSync(),
  };
}

export function requestLogObserver(log: Logger): RequestObserver {
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
