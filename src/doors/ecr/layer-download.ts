import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendBlob } from '../http/send-blob.js';
import { requestRecord } from '../http/request-record.js';
import { isRegistryError } from '../../domain/registry/errors.js';
import type { Registry } from '../../domain/registry/registry.js';

export const DOWNLOAD_PATH = '/layer-downloads/';

/** The URL path on this server that serves a download grant, like a pre-signed S3 URL. */
export function layerDownloadPath(grant: string): string {
  return DOWNLOAD_PATH + grant;
}

function deny(res: ServerResponse, status: number, code: string, message: string): void {
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`;
  res.writeHead(status, { 'Content-Type': 'application/xml', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

/** Serves the time-limited layer URLs that GetDownloadUrlForLayer hands out; true if handled. */
export async function handleLayerDownload(registry: Registry, req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
  if (!url.pathname.startsWith(DOWNLOAD_PATH)) return false;
  const record = requestRecord(req);
  record.door = 'layer-download';
  record.action = 'download layer';
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    deny(res, 405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.');
    return true;
  }
  const grant = await registry.downloads.redeem(url.pathname.slice(DOWNLOAD_PATH.length));
  if (grant && grant !== 'expired') {
    record.repository = grant.repository.name;
    record.usedRepository = { registryId: grant.repository.registryId, name: grant.repository.name };
  }
  if (grant === 'expired') {
    deny(res, 403, 'AccessDenied', 'Request has expired');
    return true;
  }
  if (!grant) {
    deny(res, 403, 'AccessDenied', 'Access Denied');
    return true;
  }
  try {
    const { size, body } = await registry.blobs.open(grant.repository, grant.digest);
    res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': size, 'Docker-Content-Digest': grant.digest });
    if (req.method === 'HEAD') {
      if (!Buffer.isBuffer(body)) await body.close();
      res.end();
    } else if (Buffer.isBuffer(body)) {
      res.end(body);
    } else {
      await sendBlob(res, body, size);
    }
  } catch (e) {
    if (res.headersSent) res.destroy();
    // Anything but the domain's refusal (a blob gone, a key disabled) is the server's fault: stored
    // bytes that fail to decrypt, say. S3 answers those with InternalError.
    else if (isRegistryError(e)) deny(res, 404, 'NoSuchKey', 'The specified key does not exist.');
    else deny(res, 500, 'InternalError', 'We encountered an internal error. Please try again.');
  }
  return true;
}
