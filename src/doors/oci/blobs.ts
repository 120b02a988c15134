import { parseDigest } from '../../domain/registry/digest.js';
import { isRegistryError } from '../../domain/registry/errors.js';
import type { ByteRange, Repository, Upload } from '../../domain/registry/model.js';
import { bodyChunks, contentLength, sendEmpty } from '../http/io.js';
import { sendBlob } from '../http/send-blob.js';
import { API_VERSION_HEADER, type OciContext } from './context.js';
import { OciError, toOciError } from './errors.js';

const BLOB_HEADERS = { ...API_VERSION_HEADER, 'Accept-Ranges': 'bytes' };

function repoRef(ctx: OciContext) {
  return ctx.repo;
}

/** Parses `Range: bytes=a-b` against a blob size; undefined means the whole blob. */
export function parseRangeHeader(header: string | undefined, size: number): ByteRange | undefined | 'unsatisfiable' {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return 'unsatisfiable';
  let start: number;
  let end: number;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) return 'unsatisfiable';
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start > end || start >= size) return 'unsatisfiable';
  return { start, end };
}

/** Parses an upload chunk's `Content-Range` (`a-b`, also tolerating `bytes a-b/total`). */
export function parseContentRange(header: string | undefined): ByteRange | undefined {
  if (header === undefined) return undefined;
  const m = /^(?:bytes[ =])?(\d+)-(\d+)(?:\/(?:\d+|\*))?$/.exec(header.trim());
  if (!m) throw new OciError('BLOB_UPLOAD_INVALID', `invalid Content-Range: ${header.slice(0, 100)}`, undefined, 416);
  const range = { start: Number(m[1]), end: Number(m[2]) };
  if (range.end < range.start) throw new OciError('BLOB_UPLOAD_INVALID', 'Content-Range end before start', undefined, 416);
  return range;
}

export async function headOrGetBlob(ctx: OciContext, head: boolean): Promise<void> {
  const action = head ? 'ecr:BatchCheckLayerAvailability' : 'ecr:GetDownloadUrlForLayer';
  await ctx.access.authorize(ctx.caller, action, repoRef(ctx));
  const repo = await ctx.registry.repositories.get(repoRef(ctx));
  const digest = ctx.ref;
  if (head) {
    const size = await ctx.registry.blobs.stat(repo, digest);
    sendEmpty(ctx.res, 200, { ...BLOB_HEADERS, 'Content-Length': size, 'Docker-Content-Digest': digest, 'Content-Type': 'application/octet-stream', ETag: `"${digest}"` });
    return;
  }
  const size = await ctx.registry.blobs.stat(repo, digest);
  const range = parseRangeHeader(ctx.req.headers.range, size);
  if (range === 'unsatisfiable') {
    throw new OciError('RANGE_INVALID', 'requested range not satisfiable', undefined, 416);
  }
  const redirect = await ctx.registry.blobs.redirectUrl(repo, digest);
  if (redirect) {
    sendEmpty(ctx.res, 307, { ...API_VERSION_HEADER, Location: redirect, 'Docker-Content-Digest': digest });
    return;
  }
  const { body } = await ctx.registry.blobs.open(repo, digest, range);
  const headers: Record<string, string | number> = {
    ...BLOB_HEADERS,
    'Content-Type': 'application/octet-stream',
    'Docker-Content-Digest': digest,
    ETag: `"${digest}"`,
    'Cache-Control': 'max-age=31536000',
  };
  const length = range ? range.end - range.start + 1 : size;
  if (range) headers['Content-Range'] = `bytes ${range.start}-${range.end}/${size}`;
  headers['Content-Length'] = length;
  ctx.res.writeHead(range ? 206 : 200, headers);
  if (Buffer.isBuffer(body)) ctx.res.end(body);
  else await sendBlob(ctx.res, body, length);
}

export async function deleteBlob(ctx: OciContext): Promise<void> {
  await ctx.access.authorize(ctx.caller, 'ecr:BatchDeleteImage', repoRef(ctx));
  const repo = await ctx.registry.repositories.get(repoRef(ctx));
  await ctx.registry.blobs.unlink(repo, ctx.ref);
  sendEmpty(ctx.res, 202, { ...API_VERSION_HEADER });
}

function uploadHeaders(ctx: OciContext, upload: Upload): Record<string, string> {
  return {
    ...API_VERSION_HEADER,
    Location: `/v2/${ctx.name}/blobs/uploads/${upload.id}`,
    Range: `0-${Math.max(0, upload.size - 1)}`,
    'Docker-Upload-UUID': upload.id,
  };
}

function blobCreated(ctx: OciContext, digest: string): void {
  sendEmpty(ctx.res, 201, { ...API_VERSION_HEADER, Location: `/v2/${ctx.name}/blobs/${digest}`, 'Docker-Content-Digest': digest });
}

export async function startUpload(ctx: OciContext): Promise<void> {
  await ctx.access.authorize(ctx.caller, 'ecr:InitiateLayerUpload', repoRef(ctx));
  const params = ctx.url.searchParams;
  const mount = params.get('mount');
  const from = params.get('from');
  const digest = params.get('digest');
  // Refuse a bad digest before the push can create the repository.
  if (digest !== null) parseDigest(digest);
  const repo = await ctx.registry.repositories.forPush(repoRef(ctx), () => ctx.access.authorize(ctx.caller, 'ecr:CreateRepository', repoRef(ctx)));

  if (mount !== null && from !== null) {
    const source = { registryId: ctx.caller.registryId, name: from };
    const mounted = await tryMount(ctx, repo, mount, source);
    if (mounted) return blobCreated(ctx, mount);
  }
  if (digest !== null) {
    await ctx.access.authorize(ctx.caller, 'ecr:CompleteLayerUpload', repoRef(ctx));
    const blob = await ctx.registry.uploads.whole(repo, digest, bodyChunks(ctx.req), contentLength(ctx.req));
    return blobCreated(ctx, blob.digest);
  }
  ctx.req.resume();
  const upload = await ctx.registry.uploads.start(repo);
  sendEmpty(ctx.res, 202, uploadHeaders(ctx, upload));
}

async function tryMount(ctx: OciContext, target: Repository, digest: string, from: { registryId: string; name: string }): Promise<boolean> {
  try {
    await ctx.access.authorize(ctx.caller, 'ecr:GetDownloadUrlForLayer', from);
    if (!(await ctx.registry.blobs.mountingEnabled(ctx.caller.registryId))) return false;
    const source = await ctx.registry.repositories.get(from);
    return (await ctx.registry.blobs.mount(target, digest, source)) !== undefined;
  } catch (e) {
    // Any reason the source cannot be mounted falls back to an ordinary upload session.
    if (isRegistryError(e) || e instanceof OciError) return false;
    throw e;
  }
}

export async function uploadStatus(ctx: OciContext): Promise<void> {
  await ctx.access.authorize(ctx.caller, 'ecr:UploadLayerPart', repoRef(ctx));
  const repo = await ctx.registry.repositories.get(repoRef(ctx));
  const upload = await ctx.registry.uploads.get(repo, ctx.ref);
  sendEmpty(ctx.res, 204, uploadHeaders(ctx, upload));
}

export async function patchUpload(ctx: OciContext): Promise<void> {
  await ctx.access.authorize(ctx.caller, 'ecr:UploadLayerPart', repoRef(ctx));
  const repo = await ctx.registry.repositories.get(repoRef(ctx));
  const range = parseContentRange(ctx.req.headers['content-range']);
  try {
    const upload = await ctx.registry.uploads.append(repo, ctx.ref, bodyChunks(ctx.req), { range, expectedLength: contentLength(ctx.req) });
    sendEmpty(ctx.res, 202, uploadHeaders(ctx, upload));
  } catch (err) {
    const e = toOciError(err);
    if (e.status !== 416) throw err;
    const upload = await ctx.registry.uploads.get(repo, ctx.ref).catch(() => undefined);
    if (upload) {
      ctx.req.resume();
      e.headers = uploadHeaders(ctx, upload);
    }
    throw e;
  }
}

export async function finishUpload(ctx: OciContext): Promise<void> {
  await ctx.access.authorize(ctx.caller, 'ecr:CompleteLayerUpload', repoRef(ctx));
  const repo = await ctx.registry.repositories.get(repoRef(ctx));
  const digest = ctx.url.searchParams.get('digest');
  if (digest === null) throw new OciError('DIGEST_INVALID', 'digest parameter missing');
  const range = parseContentRange(ctx.req.headers['content-range']);
  const blob = await ctx.registry.uploads.complete(repo, ctx.ref, digest, bodyChunks(ctx.req), { range, expectedLength: contentLength(ctx.req) });
  blobCreated(ctx, blob.digest);
}

export async function cancelUpload(ctx: OciContext): Promise<void> {
  await ctx.access.authorize(ctx.caller, 'ecr:UploadLayerPart', repoRef(ctx));
  const repo = await ctx.registry.repositories.get(repoRef(ctx));
  await ctx.registry.uploads.cancel(repo, ctx.ref);
  sendEmpty(ctx.res, 204, { ...API_VERSION_HEADER });
}
