import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Registry } from '../registry/registry.js';

/** Serves the time-limited layer URLs that GetDownloadUrlForLayer hands out; true if handled. */
export async function handleLayerDownload(_registry: Registry, _req: IncomingMessage, _res: ServerResponse, _url: URL): Promise<boolean> {
  return false;
}
