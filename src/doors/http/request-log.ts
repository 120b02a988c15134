import pino, { type Logger } from 'pino';
import { LineWriter } from '../../runtime/line-writer.js';
import type { RequestFigures, RequestObserver, RequestRecord } from './request-record.js';

export interface RequestLog {
  observer: RequestObserver;
  /** Writes out what is buffered, resolving once written; call on shutdown. */
  drain(): Promise<void>;
}

/**
 * One structured `request` line per finished request, at level info, to stdout, written in blocks
 * in the background (see LineWriter) at least every `flushMs`: a write per request, or a
 * synchronous write per block, would be most of the log's cost on small requests.
 */
export function createRequestLog(level: string, flushMs = 1000, fd = 1): RequestLog {
  const enabled = pino({ level }, { write: () => undefined }).isLevelEnabled('info');
  const out = new LineWriter(fd, { flushMs, droppedNotice: droppedLine });
  return {
    observer: enabled ? (record, figures) => out.write(requestLine(record, figures)) : () => undefined,
    drain: () => out.drain(),
  };
}

/** A warning in pino's shape: how many request lines were dropped while stdout took no more. */
export function droppedLine(dropped: number, time = Date.now()): string {
  return `{"level":40,"time":${time},"dropped":${dropped},"msg":"request log lines dropped: the log's reader fell behind"}\n`;
}

const str = JSON.stringify;

/**
 * The request's line, exactly as pino writes `log.info({requestId, door, …}, 'request')` (fields
 * left undefined are left out), but built directly: pino's serializer walks objects of every shape
 * the server logs, and in the server that generic walk cost about three times its own time.
 */
export function requestLine(record: RequestRecord, figures: RequestFigures, time = Date.now()): string {
  let line = `{"level":30,"time":${time},"requestId":${str(record.id)},"door":${str(record.door)}`;
  if (record.action !== undefined) line += `,"action":${str(record.action)}`;
  if (record.repository !== undefined) line += `,"repository":${str(record.repository)}`;
  if (record.principal?.arn !== undefined) line += `,"principal":${str(record.principal.arn)}`;
  line += `,"method":${str(figures.method)},"path":${str(figures.path)},"status":${figures.status}`;
  if (record.errorCode !== undefined) line += `,"errorCode":${str(record.errorCode)}`;
  line += `,"bytesIn":${figures.bytesIn},"bytesOut":${figures.bytesOut},"durationMs":${Math.round(figures.durationSeconds * 1e6) / 1e3}`;
  line += `,"clientIp":${str(figures.clientIp)},"userAgent":${str(figures.userAgent)}`;
  if (!figures.completed) line += ',"completed":false';
  return line + ',"msg":"request"}\n';
}

/** The same line through a pino logger (other destinations, tests). */
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
