import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { logoMediaType } from '../../domain/registry/catalog-data.js';
import type { Repository } from '../../domain/registry/model.js';
import type { Registry } from '../../domain/registry/registry.js';
import { sendEmpty, sendJson } from '../http/io.js';

/** Repository logos (catalog data's logoImageBlob) are public, like the ECR Public Gallery shows them. */
export const LOGO_PATH_PREFIX = '/ecr-public/logos/';

/** The logoUrl of a repository's catalog data; it changes whenever the logo does. */
export function logoUrl(baseUrl: string, alias: string, repo: Repository): string | undefined {
  const logo = repo.settings.catalogData?.logoImageBase64;
  if (!logo) return undefined;
  const version = createHash('sha256').update(logo).digest('hex').slice(0, 16);
  return `${baseUrl}${LOGO_PATH_PREFIX}${alias}/${repo.name}?v=${version}`;
}

/** GET /ecr-public/logos/<alias>/<repository name>: the repository's current logo. */
export async function sendLogo(registry: Registry, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  let path: string;
  try {
    path = decodeURIComponent(url.pathname.slice(LOGO_PATH_PREFIX.length));
  } catch {
    return sendJson(res, 404, { message: 'not found' });
  }
  const slash = path.indexOf('/');
  const accountId = slash > 0 ? await registry.publicRegistries.accountOf(path.slice(0, slash)) : undefined;
  const repo = accountId === undefined ? undefined : await registry.repositories.find(registry.publicRegistries.ref(accountId, path.slice(slash + 1)));
  const logo = repo?.settings.catalogData?.logoImageBase64;
  if (!logo) return sendJson(res, 404, { message: 'not found' });
  const bytes = Buffer.from(logo, 'base64');
  const headers = { 'Content-Type': logoMediaType(bytes), 'Content-Length': bytes.length, 'Cache-Control': 'public, max-age=300' };
  if (req.method === 'HEAD') return sendEmpty(res, 200, headers);
  res.writeHead(200, headers);
  res.end(bytes);
}
