import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createSecureServer, type Http2SecureServer, type Http2ServerRequest, type Http2ServerResponse, type ServerHttp2Session } from 'node:http2';
import type { TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import type { ConnectionLimits, TlsSettings } from '../../config.js';
import { guardConnections } from './connections.js';

/** How often the certificate and key files are checked for a renewal. */
export const TLS_RELOAD_INTERVAL_MS = 5000;

/** Flow-control windows for HTTP/2 uploads: large enough that a push is not paced by round trips. */
const STREAM_WINDOW_BYTES = 4 * 1024 * 1024;
const SESSION_WINDOW_BYTES = 16 * 1024 * 1024;

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

export interface TlsPair {
  cert: Buffer;
  key: Buffer;
}

/** Reads the certificate chain and key, and checks they parse and belong together. */
export async function readTlsPair(files: TlsSettings): Promise<TlsPair> {
  const [cert, key] = await Promise.all([readFile(files.certFile), readFile(files.keyFile)]);
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(cert);
  } catch (err) {
    throw new Error(`${files.certFile} holds no PEM certificate (${(err as Error).message})`);
  }
  let privateKey;
  try {
    privateKey = createPrivateKey(key);
  } catch (err) {
    throw new Error(`${files.keyFile} holds no PEM private key (${(err as Error).message})`);
  }
  if (!leaf.checkPrivateKey(privateKey)) throw new Error(`${files.keyFile} is not the key of the certificate in ${files.certFile}`);
  return { cert, key };
}

async function fileVersion(files: TlsSettings): Promise<string> {
  const [c, k] = await Promise.all([stat(files.certFile), stat(files.keyFile)]);
  return [c.ino, c.size, c.mtimeMs, k.ino, k.size, k.mtimeMs].join(':');
}

export interface TlsListener {
  server: Http2SecureServer;
  /** Stops accepting, lets requests in flight finish, then closes every connection. */
  close(): Promise<void>;
}

/**
 * An HTTPS server that speaks HTTP/2 to clients that offer it (ALPN h2) and HTTP/1.1 to the rest,
 * with berth's connection limits on both, and that picks up a renewed certificate and key without a
 * restart. A pair caught half-written (or otherwise unusable) is ignored until both files parse and
 * match; the old certificate keeps serving meanwhile.
 *
 * The handler receives HTTP/2 compatibility request/response objects for h2 streams; the doors use
 * only what both protocols share (headers, url, method, streaming body, writeHead/write/end).
 */
export async function serveTls(files: TlsSettings, limits: ConnectionLimits, handler: RequestHandler, log: Logger, reloadIntervalMs = TLS_RELOAD_INTERVAL_MS): Promise<TlsListener> {
  const pair = await readTlsPair(files);
  let loadedVersion = await fileVersion(files);
  let rejectedVersion = '';

  const server = createSecureServer(
    {
      ...pair,
      allowHTTP1: true,
      minVersion: 'TLSv1.2',
      handshakeTimeout: limits.headersTimeoutSeconds * 1000,
      settings: { initialWindowSize: STREAM_WINDOW_BYTES, maxConcurrentStreams: 256 },
    },
    (req: Http2ServerRequest | IncomingMessage, res: Http2ServerResponse | ServerResponse) => {
      if (req.httpVersionMajor >= 2) {
        // HTTP/2 carries the host in :authority; the doors (and SigV4) read `host`.
        const authority = req.headers[':authority'];
        if (req.headers.host === undefined && typeof authority === 'string') req.headers.host = authority;
      } else {
        trackHttp1Request(req as IncomingMessage, res as ServerResponse);
      }
      handler(req as IncomingMessage, res as ServerResponse);
    },
  );
  // The HTTP/1.1 fallback runs node's own HTTP/1 connection handling, which reads these.
  Object.assign(server, {
    headersTimeout: limits.headersTimeoutSeconds * 1000,
    requestTimeout: 0,
    keepAliveTimeout: limits.idleTimeoutSeconds * 1000,
    connectionsCheckingInterval: Math.min(1000, limits.headersTimeoutSeconds * 250),
  });
  guardConnections(server, limits);

  const sessions = new Set<ServerHttp2Session>();
  server.on('session', (session: ServerHttp2Session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
    session.setLocalWindowSize(SESSION_WINDOW_BYTES);
  });

  // HTTP/1.1 connections and how many requests each is serving, so a stop can close the idle ones.
  const http1 = new Map<TLSSocket, number>();
  let closing = false;
  server.on('secureConnection', (socket: TLSSocket) => {
    if (socket.alpnProtocol === 'h2') return;
    http1.set(socket, 0);
    socket.once('close', () => http1.delete(socket));
  });
  function trackHttp1Request(req: IncomingMessage, res: ServerResponse): void {
    const socket = req.socket as TLSSocket;
    http1.set(socket, (http1.get(socket) ?? 0) + 1);
    res.once('close', () => {
      const left = (http1.get(socket) ?? 1) - 1;
      if (closing && left === 0) socket.destroy();
      else if (http1.has(socket)) http1.set(socket, left);
    });
  }

  const reload = async () => {
    let version: string;
    try {
      version = await fileVersion(files);
    } catch (err) {
      if (rejectedVersion !== 'missing') log.warn({ err }, 'TLS certificate or key unreadable; still serving the previous certificate');
      rejectedVersion = 'missing';
      return;
    }
    if (version === loadedVersion || version === rejectedVersion) return;
    try {
      const next = await readTlsPair(files);
      // The files may have changed while they were read: take the version seen before reading, so a
      // later change is picked up on the next tick.
      server.setSecureContext({ ...next, minVersion: 'TLSv1.2' });
      loadedVersion = version;
      rejectedVersion = '';
      log.info({ cert: files.certFile }, 'TLS certificate reloaded');
    } catch (err) {
      rejectedVersion = version;
      log.warn({ err: (err as Error).message }, 'TLS certificate or key not usable (yet); still serving the previous certificate');
    }
  };
  let reloading: Promise<void> | undefined;
  const timer = setInterval(() => {
    reloading ??= reload().finally(() => (reloading = undefined));
  }, reloadIntervalMs);
  timer.unref();

  return {
    server,
    async close() {
      clearInterval(timer);
      closing = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const session of sessions) session.close();
      for (const [socket, active] of http1) if (active === 0) socket.destroy();
      await closed;
      await reloading;
    },
  };
}
