import { randomUUID } from 'node:crypto';
import { ServerResponse, type IncomingMessage, type OutgoingHttpHeader, type OutgoingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import type { Principal } from '../../iam/auth/principal.js';

/** Which door answered a request; the `door` label of the request metrics. */
export type Door = 'oci' | 'ecr' | 'ecr-public' | 'kms' | 'events' | 'iam' | 'sts' | 'cloudtrail' | 'health' | 'metrics' | 'layer-download' | 'none';

/** What CloudTrail records of a call, besides who made it and how it ended; set by the door that understood it. */
export interface AuditReport {
  /** e.g. ecr.amazonaws.com */
  eventSource: string;
  /** The API operation, e.g. PutImage. */
  eventName: string;
  readOnly: boolean;
  /** The call's input without secrets or bodies; null when CloudTrail records none. */
  requestParameters: Record<string, unknown> | null;
  /** What the call answered (mutations), without secrets; null otherwise. */
  responseElements?: Record<string, unknown> | null;
  /** The account whose resources the call addressed; default: the caller's. */
  recipientAccountId?: string;
  /** The error code the trail records, when it differs from the one the door answered with. */
  errorCode?: string;
}

/**
 * One request as the doors describe it while answering it: the wrapper creates it, the door that
 * handles the request fills in what only it knows, and the observers read it when the response is done.
 */
export interface RequestRecord {
  /** Also in the response: `x-amzn-RequestId` on the AWS APIs, `X-Request-Id` elsewhere. */
  readonly id: string;
  /** When the request arrived, epoch ms. */
  readonly startedAt: number;
  door: Door;
  /** The region whose registry answered (the deployment's home region unless the request named another). */
  region?: string;
  /** ECR/IAM/STS operation name, or the /v2 action (`pull manifest`, `push blob`, …). */
  action?: string;
  repository?: string;
  /** The repository the request used, as the registry knows it (a public one under its account's namespace). */
  usedRepository?: { registryId: string; name: string };
  /** Who the request was authenticated as (anonymous callers too), once known. */
  principal?: Principal;
  /** The protocol's error code when the door answered with an error. */
  errorCode?: string;
  errorMessage?: string;
  /** Set when the call belongs in the audit trail. */
  audit?: AuditReport;
}

/** How a finished request went, measured by the wrapper. */
export interface RequestFigures {
  /** The status sent; 499 when the client went away before an answer was sent. */
  status: number;
  /** Bytes read from and written to the connection for this request, headers included. */
  bytesIn: number;
  bytesOut: number;
  durationSeconds: number;
  clientIp: string;
  userAgent: string;
  method: string;
  /** The path, without the query; secret path parts (download grants) cut off. */
  path: string;
  /** False when the response did not finish (the client left, or the connection broke). */
  completed: boolean;
}

/** Reads each finished request; must not throw and must not block. */
export type RequestObserver = (record: RequestRecord, figures: RequestFigures) => void;

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
type CountedSocket = Socket & { [READ_BEFORE]?: number; [WRITTEN_BEFORE]?: number };
// A property of the request rather than a WeakMap entry: weak entries cost the collector on every request.
type RecordedRequest = IncomingMessage & { [RECORD]?: RequestRecord };

const READ_BEFORE = Symbol('bytesReadBeforeThisRequest');
const WRITTEN_BEFORE = Symbol('bytesWrittenBeforeThisRequest');
const RECORD = Symbol('requestRecord');

// Request ids are UUID-shaped: a random prefix per process and a counter, unique across processes
// and nodes, and cheaper than a fresh random UUID on every request.
const ID_PREFIX = randomUUID().slice(0, 24);
let requestCount = 0;

function newRecord(): RequestRecord {
  // Every field from the start, in one order: records then share one shape whichever door fills
  // them in, and the observers' reads of them stay monomorphic.
  return {
    id: ID_PREFIX + (++requestCount).toString(16).padStart(12, '0'),
    startedAt: Date.now(),
    door: 'none',
    region: undefined,
    action: undefined,
    repository: undefined,
    usedRepository: undefined,
    principal: undefined,
    errorCode: undefined,
    errorMessage: undefined,
    audit: undefined,
  };
}

/** The record of the request being answered; doors write what they learn into it. */
export function requestRecord(req: IncomingMessage): RequestRecord {
  // A door called without the wrapper (unit tests) gets a record nobody reads.
  return ((req as RecordedRequest)[RECORD] ??= newRecord());
}

/** AWS APIs answer `POST /` (JSON 1.1 and query); their request id header is x-amzn-RequestId. */
function isAwsApi(req: IncomingMessage): boolean {
  return req.method === 'POST' && (req.url === '/' || req.url?.startsWith('/?') === true);
}

function pathOf(rawUrl: string): string {
  const q = rawUrl.indexOf('?');
  const path = q === -1 ? rawUrl : rawUrl.slice(0, q);
  return path.startsWith('/layer-downloads/') ? '/layer-downloads/…' : path;
}

type Headers = OutgoingHttpHeaders | OutgoingHttpHeader[] | undefined;

/**
 * Responses that carry their request's id header. It is added to the headers the door passes to
 * `writeHead` rather than set beforehand with `setHeader`, which would send every response down
 * Node's slower path for mixed header APIs (measured: about 3 µs a request).
 */
export class RecordedResponse extends ServerResponse {
  override writeHead(statusCode: number, reason?: string | Headers, headers?: Headers): this {
    const record = (this.req as RecordedRequest | undefined)?.[RECORD];
    if (!record) return super.writeHead(statusCode, reason as string, headers);
    const name = isAwsApi(this.req) ? 'x-amzn-RequestId' : 'X-Request-Id';
    if (typeof reason === 'string' || reason === undefined) return super.writeHead(statusCode, reason, this.withId(headers, name, record.id));
    return super.writeHead(statusCode, this.withId(reason, name, record.id));
  }

  private withId(headers: Headers, name: string, id: string): Headers {
    if (headers && !Array.isArray(headers)) {
      for (const key in headers) if (key.toLowerCase() === name.toLowerCase()) return headers;
      return { ...headers, [name]: id };
    }
    if (!this.hasHeader(name)) this.setHeader(name, id);
    return headers;
  }
}

/** Server options that make responses carry the request id: pass them to `createServer`. */
/** For servers that cannot take `observedServerOptions` (HTTPS, HTTP/2): sets the id header up front. */
export function stampRequestId(req: IncomingMessage, res: ServerResponse): void {
  const record = (req as RecordedRequest)[RECORD];
  if (record) res.setHeader(isAwsApi(req) ? 'x-amzn-RequestId' : 'X-Request-Id', record.id);
}

export const observedServerOptions = { ServerResponse: RecordedResponse as unknown as typeof ServerResponse };

/**
 * Wraps the server's request handler: gives each request a record (whose id the response carries,
 * with `observedServerOptions`), and hands the record with the request's figures to every observer
 * once the response is done.
 */
export function observeRequests(handler: Handler, observers: RequestObserver[]): Handler {
  return (req, res) => {
    const record = newRecord();
    (req as RecordedRequest)[RECORD] = record;
    const started = performance.now();
    res.once('close', () => {
      const socket = req.socket as CountedSocket;
      const read = socket.bytesRead;
      const written = socket.bytesWritten;
      const figures: RequestFigures = {
        status: res.headersSent ? res.statusCode : 499,
        bytesIn: read - (socket[READ_BEFORE] ?? 0),
        bytesOut: written - (socket[WRITTEN_BEFORE] ?? 0),
        durationSeconds: (performance.now() - started) / 1000,
        clientIp: socket.remoteAddress ?? '',
        userAgent: req.headers['user-agent'] ?? '',
        method: req.method ?? '',
        path: pathOf(req.url ?? '/'),
        completed: res.writableFinished,
      };
      socket[READ_BEFORE] = read;
      socket[WRITTEN_BEFORE] = written;
      for (const observe of observers) {
        try {
          observe(record, figures);
        } catch (err) {
          process.emitWarning(`request observer failed: ${String(err)}`);
        }
      }
    });
    handler(req, res);
  };
}
