import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendBlob } from '../http/send-blob.js';
import type { Registry } from '../registry/registry.js';
import type { MetadataStore } from '../store/meta/metadata-store.js';

export const DOWNLOAD_PATH = '/layer-downloads/';
const SECRET_KEY = 'layer_download_secret';
/** How long a GetDownloadUrlForLayer URL stays valid, like a pre-signed S3 URL. */
export const DOWNLOAD_URL_LIFETIME_MS = 3600_000;

async function secret(meta: MetadataStore): Promise<Buffer> {
  return Buffer.from(await meta.getOrCreateSetting(SECRET_KEY, () => randomBytes(32).toString('hex')), 'hex');
}

function sign(key: Buffer, payload: string): string {
  return createHmac('sha256', key).update(payload).digest('base64url');
}

/** A URL path on this server that serves the blob of the repository until it expires. */
export async function signLayerDownload(meta: MetadataStore, repoId: string, digest: string, now = Date.now()): Promise<string> {
  const payload = Buffer.from(JSON.stringify({ r: repoId, d: digest, e: now + DOWNLOAD_URL_LIFETIME_MS })).toString('base64url');
  return `${DOWNLOAD_PATH}${payload}.${sign(await secret(meta), payload)}`;
}

async function verify(meta: MetadataStore, token: string): Promise<{ repoId: string; digest: string } | 'expired' | undefined> {
  const [payload, signature, extra] = token.split('.');
  if (!payload || !signature || extra !== undefined) return undefined;
  const expected = Buffer.from(sign(await secret(meta), payload));
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return undefined;
  try {
    const v = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { r?: unknown; d?: unknown; e?: unknown };
    if (typeof v.r !== 'string' || typeof v.d !== 'string' || typeof v.e !== 'number') return undefined;
    if (v.e < Date.now()) return 'expired';
    return { repoId: v.r, digest: v.d };
  } catch {
    return undefined;
  }
}

function deny(res: ServerResponse, status: number, code: string, message: string): void {
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`;
  res.writeHead(status, { 'Content-Type': 'application/xml', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

/** Serves the time-limited layer URLs that GetDownloadUrlForLayer hands out; true if handled. */
export async function handleLayerDownload(registry: Registry, req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
  if (!url.pathname.startsWith(DOWNLOAD_PATH)) return false;
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    deny(res, 405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.');
    return true;
  }
  const grant = await verify(registry.meta, url.pathname.slice(DOWNLOAD_PATH.length));
  if (grant === 'expired') {
    deny(res, 403, 'AccessDenied', 'Request has expired');
    return true;
  }
  const repo = grant && (await registry.meta.getRepositoryById(grant.repoId));
  if (!grant || !repo) {
    deny(res, 403, 'AccessDenied', 'Access Denied');
    return true;
  }
  try {
    const { size, body } = await registry.openBlob(repo, grant.digest);
    res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': size, 'Docker-Content-Digest': grant.digest });
    if (req.method === 'HEAD') {
      if (!Buffer.isBuffer(body)) await body.close();
      res.end();
    } else if (Buffer.isBuffer(body)) {
      res.end(body);
    } else {
      await sendBlob(res, body, size);
    }
  } catch {
    if (!res.headersSent) deny(res, 404, 'NoSuchKey', 'The specified key does not exist.');
    else res.destroy();
  }
  return true;
}
