import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { StorageFigures } from '../../domain/stats/storage-figures.js';
import { sendJson } from './io.js';
import type { BerthMetrics } from './metrics.js';
import { requestRecord } from './request-record.js';

export const METRICS_TOKEN_FILE = 'metrics-token';

/**
 * The bearer token scrapers must send: the configured one, else the one in `<data-dir>/metrics-token`,
 * created (mode 0600) on first start. Undefined when the metrics are public.
 */
export async function metricsToken(opts: { dataDir: string; token?: string; public: boolean }): Promise<string | undefined> {
  if (opts.public) return undefined;
  if (opts.token) return opts.token;
  const file = join(opts.dataDir, METRICS_TOKEN_FILE);
  const created = randomBytes(32).toString('base64url');
  try {
    await writeFile(file, created + '\n', { mode: 0o600, flag: 'wx' });
    return created;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const existing = (await readFile(file, 'utf8')).trim();
  if (!existing) throw new Error(`${file} is empty: delete it to have berth create a new metrics token`);
  return existing;
}

function bearerMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  if (!m) return false;
  const given = Buffer.from(m[1]!);
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** `GET /metrics`: the Prometheus exposition, for callers with the token (or anyone, when public). */
export function metricsEndpoint(deps: { metrics: BerthMetrics; figures: () => Promise<StorageFigures>; token: string | undefined }) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    requestRecord(req).door = 'metrics';
    requestRecord(req).action = 'scrape';
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendJson(res, 405, { message: 'method not allowed' }, { Allow: 'GET, HEAD' });
    if (deps.token !== undefined && !bearerMatches(req.headers.authorization, deps.token)) {
      return sendJson(res, 401, { message: 'a bearer token is required' }, { 'WWW-Authenticate': 'Bearer realm="berth metrics"' });
    }
    const text = await deps.metrics.render(await deps.figures());
    res.writeHead(200, { 'Content-Type': deps.metrics.contentType, 'Content-Length': Buffer.byteLength(text) });
    res.end(req.method === 'HEAD' ? undefined : text);
  };
}
