import type { ServerResponse } from 'node:http';
import { BodyTooLargeError } from '../http/io.js';
import { RegistryError } from '../registry/errors.js';

/** Renders any failure in the OCI error shape; unexpected ones become UNKNOWN without internals. */
export function sendOciError(res: ServerResponse, err: unknown, head: boolean, extraHeaders: Record<string, string> = {}): RegistryError {
  let e: RegistryError;
  if (err instanceof RegistryError) e = err;
  else if (err instanceof BodyTooLargeError) e = new RegistryError('SIZE_INVALID', err.message, undefined, 413);
  else e = new RegistryError('UNKNOWN', 'internal error');
  if (res.headersSent) {
    res.destroy();
    return e;
  }
  const body = JSON.stringify({ errors: [{ code: e.code, message: e.message, detail: e.detail ?? {} }] });
  res.writeHead(e.status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(body),
    'Docker-Distribution-API-Version': 'registry/2.0',
    ...extraHeaders,
  });
  res.end(head ? undefined : body);
  return e;
}
