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

/** JSON for a string: quoted as it is when nothing in it needs escaping (most values), else JSON.stringify's. */
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;
function str(value: string): string {
  return PLAIN.test(value) ? `"${value}"` : JSON.stringify(value);
}

/** Values that repeat from request to request (actions, principals, a client's user agent), quoted once. */
const QUOTED_MAX = 512;
const QUOTED_MAX_LENGTH = 256;
const quoted = new Map<string, string>();
function strRepeated(value: string): string {
  if (value.length > QUOTED_MAX_LENGTH) return str(value);
  let json = quoted.get(value);
  if (json === undefined) {
    json = str(value);
    if (quoted.size >= QUOTED_MAX) quoted.clear();
    quoted.set(value, json);
  }
  return json;
}

/** The line's opening for the last millisecond seen: several requests end in each. */
let openedAt = -1;
let opening = '';

const TRAILING_ZEROS = /0+$/;

/** Milliseconds with three decimals from seconds, as `String(Math.round(s * 1e6) / 1e3)` writes them. */
function millis(seconds: number): string {
  const micros = Math.round(seconds * 1e6);
  const fraction = micros % 1000;
  if (fraction === 0 || !Number.isFinite(micros) || micros >= 1e21 || micros < 0) return String(micros / 1e3);
  // Three digits, without the trailing zeros (the fraction is not 0, so at most two).
  const digits = String(fraction).padStart(3, '0').replace(TRAILING_ZEROS, '');
  return `${(micros - fraction) / 1000}.${digits}`;
}

/**
 * The request's line, exactly as pino writes `log.info({requestId, door, …}, 'request')` (fields
 * left undefined are left out), but built directly: pino's serializer walks objects of every shape
 * the server logs, and in the server that generic walk cost about three times its own time.
 */
export function requestLine(record: RequestRecord, figures: RequestFigures, time = Date.now()): string {
  if (time !== openedAt) {
    openedAt = time;
    opening = `{"level":30,"time":${time},"requestId":`;
  }
  // Request ids and door names are ours, and never need escaping.
  let line = `${opening}"${record.id}","door":"${record.door}"`;
  if (record.action !== undefined) line += `,"action":${strRepeated(record.action)}`;
  if (record.repository !== undefined) line += `,"repository":${str(record.repository)}`;
  if (record.principal?.arn !== undefined) line += `,"principal":${strRepeated(record.principal.arn)}`;
  line += `,"method":${strRepeated(figures.method)},"path":${str(figures.path)},"status":${figures.status}`;
  if (record.errorCode !== undefined) line += `,"errorCode":${strRepeated(record.errorCode)}`;
  line += `,"bytesIn":${figures.bytesIn},"bytesOut":${figures.bytesOut},"durationMs":${millis(figures.durationSeconds)}`;
  line += `,"clientIp":${strRepeated(figures.clientIp)},"userAgent":${strRepeated(figures.userAgent)}`;
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
