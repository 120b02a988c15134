import { readBody, sendEmpty, sendJson } from '../http/io.js';
import { OciError } from './errors.js';
import { MAX_MANIFEST_BYTES } from '../../domain/registry/manifest.js';
import { MediaType, isIndexMediaType } from '../../domain/registry/media-types.js';
import type { Manifest, Repository } from '../../domain/registry/model.js';
import { API_VERSION_HEADER, type OciContext } from './context.js';

function repoRef(ctx: OciContext) {
  return ctx.repo;
}

function accepts(acceptHeader: string | undefined, mediaType: string): boolean {
  if (!acceptHeader) return true;
  const types = acceptHeader.split(',').map((t) => t.split(';')[0]!.trim().toLowerCase());
  return types.some((t) => t === mediaType || t === '*/*' || t === 'application/*');
}

/**
 * When a client cannot take an index it asked for by tag, answer with its linux/amd64 image, as
 * Distribution does; otherwise serve the stored manifest as pushed.
 */
async function negotiate(ctx: OciContext, repo: Repository, manifest: Manifest, byTag: boolean): Promise<Manifest> {
  const accept = ctx.req.headers.accept;
  if (!byTag || accepts(accept, manifest.mediaType) || !isIndexMediaType(manifest.mediaType)) return manifest;
  const index = JSON.parse(manifest.body.toString('utf8')) as { manifests?: Array<{ digest: string; mediaType: string; platform?: { os?: string; architecture?: string } }> };
  const child = index.manifests?.find((m) => m.platform?.os === 'linux' && m.platform?.architecture === 'amd64' && accepts(accept, m.mediaType));
  if (!child) return manifest;
  return (await ctx.registry.images.byDigest(repo, child.digest)) ?? manifest;
}

export async function headOrGetManifest(ctx: OciContext, head: boolean): Promise<void> {
  await ctx.access.authorize(ctx.caller, 'ecr:BatchGetImage', repoRef(ctx));
  const { repository: repo, manifest: found } = await ctx.registry.images.find(repoRef(ctx), ctx.ref);
  const manifest = await negotiate(ctx, repo, found, !ctx.ref.includes(':'));
  const headers = {
    ...API_VERSION_HEADER,
    'Content-Type': manifest.mediaType,
    'Content-Length': manifest.size,
    'Docker-Content-Digest': manifest.digest,
    ETag: `"${manifest.digest}"`,
  };
  ctx.res.writeHead(200, headers);
  ctx.res.end(head ? undefined : manifest.body);
  if (!head) ctx.registry.images.recordPull(repo, manifest.digest, ctx.caller.principalArn);
}

export async function putManifest(ctx: OciContext): Promise<void> {
  await ctx.access.authorize(ctx.caller, 'ecr:PutImage', repoRef(ctx));
  let body: Buffer;
  try {
    body = await readBody(ctx.req, MAX_MANIFEST_BYTES);
  } catch {
    throw new OciError('MANIFEST_INVALID', `manifest larger than ${MAX_MANIFEST_BYTES} bytes`, undefined, 413);
  }
  const result = await ctx.registry.images.push(repoRef(ctx), ctx.ref, body, ctx.req.headers['content-type'], () =>
    ctx.access.authorize(ctx.caller, 'ecr:CreateRepository', repoRef(ctx)),
  );
  const headers: Record<string, string> = {
    ...API_VERSION_HEADER,
    Location: `/v2/${ctx.name}/manifests/${result.digest}`,
    'Docker-Content-Digest': result.digest,
  };
  if (result.subject) headers['OCI-Subject'] = result.subject;
  sendEmpty(ctx.res, 201, headers);
}

export async function deleteManifest(ctx: OciContext): Promise<void> {
  await ctx.access.authorize(ctx.caller, 'ecr:BatchDeleteImage', repoRef(ctx));
  const repo = await ctx.registry.repositories.get(repoRef(ctx));
  if (ctx.ref.includes(':')) await ctx.registry.images.deleteByDigest(repo, ctx.ref);
  else await ctx.registry.images.untag(repo, ctx.ref);
  sendEmpty(ctx.res, 202, { ...API_VERSION_HEADER });
}

/** Reads `n` and `last` for paginated listings; `n` beyond the page cap is the cap. */
export function pageParams(url: URL): { n?: number; last?: string } {
  const nRaw = url.searchParams.get('n');
  const last = url.searchParams.get('last') ?? undefined;
  if (nRaw === null || nRaw === '') return { last };
  if (!/^\d+$/.test(nRaw)) throw new OciError('PAGINATION_NUMBER_INVALID', `invalid n: ${nRaw.slice(0, 20)}`);
  return { n: Math.min(Number(nRaw), MAX_PAGE_SIZE), last };
}

export const MAX_PAGE_SIZE = 10_000;

function nextLink(path: string, n: number, last: string): string {
  return `<${path}?n=${n}&last=${encodeURIComponent(last)}>; rel="next"`;
}

export async function listTags(ctx: OciContext, head: boolean): Promise<void> {
  await ctx.access.authorize(ctx.caller, 'ecr:ListImages', repoRef(ctx));
  const repo = await ctx.registry.repositories.get(repoRef(ctx));
  const { n, last } = pageParams(ctx.url);
  const headers: Record<string, string> = { ...API_VERSION_HEADER };
  let tags: string[] = [];
  if (n !== 0) {
    const rows = await ctx.registry.images.listTags(repo, last, n === undefined ? undefined : n + 1);
    tags = rows.map((r) => r.name);
    if (n !== undefined && tags.length > n) {
      tags = tags.slice(0, n);
      headers.Link = nextLink(`/v2/${ctx.name}/tags/list`, n, tags[tags.length - 1]!);
    }
  }
  if (head) return sendEmpty(ctx.res, 200, headers);
  sendJson(ctx.res, 200, { name: ctx.name, tags }, headers);
}

export async function catalog(ctx: OciContext): Promise<void> {
  const { n, last } = pageParams(ctx.url);
  const limit = n ?? 1000;
  const names: string[] = [];
  let after = last;
  let more = false;
  // Filter by what the caller may see, batch by batch, until the page is full and one more visible
  // name shows there is a next page (which may only turn up in a later batch).
  for (;;) {
    const batch = (await ctx.registry.repositories.list(ctx.caller.registryId, after, CATALOG_BATCH)).map((r) => r.name);
    for (const name of batch) {
      if (!(await ctx.access.canList(ctx.caller, { registryId: ctx.caller.registryId, name }))) continue;
      if (names.length === limit) {
        more = true;
        break;
      }
      names.push(name);
    }
    if (more || batch.length < CATALOG_BATCH) break;
    after = batch[batch.length - 1];
  }
  const headers: Record<string, string> = { ...API_VERSION_HEADER };
  if (more && limit > 0) headers.Link = nextLink('/v2/_catalog', limit, names[names.length - 1]!);
  sendJson(ctx.res, 200, { repositories: names }, headers);
}

const CATALOG_BATCH = 500;

export async function referrers(ctx: OciContext): Promise<void> {
  await ctx.access.authorize(ctx.caller, 'ecr:BatchGetImage', repoRef(ctx));
  const repo = await ctx.registry.repositories.get(repoRef(ctx));
  const artifactType = ctx.url.searchParams.get('artifactType') ?? undefined;
  const manifests = await ctx.registry.images.referrers(repo, ctx.ref, artifactType);
  const headers: Record<string, string> = { ...API_VERSION_HEADER };
  if (artifactType !== undefined) headers['OCI-Filters-Applied'] = 'artifactType';
  sendJson(ctx.res, 200, { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests }, headers, MediaType.ociIndex);
}
