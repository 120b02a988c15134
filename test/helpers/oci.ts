// OCI Distribution protocol helpers over plain HTTP: blobs, uploads, manifests, error bodies, and
// messages that show the whole exchange when an assertion fails.
import { createCipheriv, createHash } from 'node:crypto';
import http from 'node:http';
import type { Berth } from './berth.js';

export const MediaType = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayerTar: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
} as const;

export const ALL_MANIFEST_TYPES = [
  MediaType.ociManifest,
  MediaType.ociIndex,
  MediaType.dockerManifest,
  MediaType.dockerList,
].join(', ');

export function sha256(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

export interface Exchange {
  method: string;
  url: string;
  status: number;
  headers: Headers;
  body: Buffer;
  text(): string;
  json<T = unknown>(): T;
  /** One-paragraph description of request and response, for assertion messages. */
  describe(): string;
}

function shortBody(body: Buffer): string {
  if (body.length === 0) return '(empty body)';
  const printable = body.subarray(0, 600).toString('utf8');
  return /[\x00-\x08\x0e-\x1f]/.test(printable) ? `(${body.length} binary bytes)` : printable + (body.length > 600 ? '…' : '');
}

export function toExchange(method: string, url: string, res: Response, body: Buffer): Exchange {
  const headers = res.headers;
  return {
    method,
    url,
    status: res.status,
    headers,
    body,
    text: () => body.toString('utf8'),
    json: <T>() => JSON.parse(body.toString('utf8')) as T,
    describe() {
      const hs: string[] = [];
      headers.forEach((v, k) => {
        if (k !== 'date' && k !== 'connection' && k !== 'keep-alive') hs.push(`${k}: ${v}`);
      });
      return `${method} ${new URL(url).pathname}${new URL(url).search} -> ${res.status}\n  ${hs.join('\n  ')}\n  ${shortBody(body)}`;
    },
  };
}

export interface RequestOptions {
  headers?: Record<string, string>;
  body?: Buffer | string;
}

/** One HTTP request to the registry (auth header added), body fully read. */
export async function request(b: Berth, method: string, path: string, opts: RequestOptions = {}): Promise<Exchange> {
  const url = new URL(path, b.url).toString();
  const body = typeof opts.body === 'string' ? opts.body : opts.body === undefined ? undefined : new Uint8Array(opts.body);
  const res = await b.fetch(url, { method, headers: opts.headers, body, redirect: 'follow' });
  return toExchange(method, url, res, Buffer.from(await res.arrayBuffer()));
}

/** The `errors[].code` values of an OCI error body ([] if the body is not one). */
export function errorCodes(ex: Exchange): string[] {
  try {
    const parsed = ex.json<{ errors?: { code?: string }[] }>();
    return (parsed.errors ?? []).map((e) => String(e.code));
  } catch {
    return [];
  }
}

export function expectStatus(ex: Exchange, ...statuses: number[]): void {
  if (!statuses.includes(ex.status)) {
    throw new Error(`expected HTTP ${statuses.join(' or ')}, got:\n${ex.describe()}`);
  }
}

/** Asserts an OCI error response: status and one of the error codes. */
export function expectError(ex: Exchange, status: number, code: string): void {
  const codes = errorCodes(ex);
  if (ex.status !== status || !codes.includes(code)) {
    throw new Error(`expected HTTP ${status} with error code ${code}, got:\n${ex.describe()}`);
  }
}

// ---------------------------------------------------------------------------------------------
// blobs

/** POST an upload session; returns the absolute Location. */
export async function startUpload(b: Berth, repo: string, query = ''): Promise<Exchange & { location: string }> {
  const ex = await request(b, 'POST', `/v2/${repo}/blobs/uploads/${query}`, { headers: { 'content-length': '0' } });
  const loc = ex.headers.get('location');
  return Object.assign(ex, { location: loc ? new URL(loc, b.url).toString() : '' });
}

function withQuery(location: string, key: string, value: string): string {
  const u = new URL(location);
  u.searchParams.set(key, value);
  return u.toString();
}

/** Monolithic upload: POST, then PUT ?digest= with the bytes. Throws (with the exchange) unless 201. */
export async function uploadBlob(b: Berth, repo: string, data: Buffer): Promise<{ digest: string; put: Exchange }> {
  const digest = sha256(data);
  const post = await startUpload(b, repo);
  expectStatus(post, 202);
  if (!post.location) throw new Error(`upload POST had no Location:\n${post.describe()}`);
  const put = await request(b, 'PUT', withQuery(post.location, 'digest', digest), {
    headers: { 'content-type': 'application/octet-stream', 'content-length': String(data.length) },
    body: data,
  });
  expectStatus(put, 201);
  return { digest, put };
}

export function blobPath(repo: string, digest: string): string {
  return `/v2/${repo}/blobs/${digest}`;
}

export function getBlob(b: Berth, repo: string, digest: string): Promise<Exchange> {
  return request(b, 'GET', blobPath(repo, digest));
}

/** PUT ?digest= to finish an upload session (empty body unless given). */
export function finishUpload(b: Berth, location: string, digest: string, body?: Buffer): Promise<Exchange> {
  return request(b, 'PUT', withQuery(location, 'digest', digest), {
    headers: { 'content-type': 'application/octet-stream', 'content-length': String(body?.length ?? 0) },
    body: body ?? Buffer.alloc(0),
  });
}

// ---------------------------------------------------------------------------------------------
// manifests

export function putManifest(b: Berth, repo: string, ref: string, bytes: Buffer, mediaType: string): Promise<Exchange> {
  return request(b, 'PUT', `/v2/${repo}/manifests/${ref}`, {
    headers: { 'content-type': mediaType, 'content-length': String(bytes.length) },
    body: bytes,
  });
}

export function getManifest(b: Berth, repo: string, ref: string, method: 'GET' | 'HEAD' = 'GET'): Promise<Exchange> {
  return request(b, method, `/v2/${repo}/manifests/${ref}`, { headers: { accept: ALL_MANIFEST_TYPES } });
}

export function deleteManifest(b: Berth, repo: string, ref: string): Promise<Exchange> {
  return request(b, 'DELETE', `/v2/${repo}/manifests/${ref}`);
}

export async function listTags(b: Berth, repo: string): Promise<Exchange & { tags: string[] }> {
  const ex = await request(b, 'GET', `/v2/${repo}/tags/list`);
  let tags: string[] = [];
  if (ex.status === 200) tags = ex.json<{ tags?: string[] | null }>().tags ?? [];
  return Object.assign(ex, { tags });
}

// ---------------------------------------------------------------------------------------------
// building small, valid images in memory

/** A ustar archive with the given regular files (mode 0644, owner root, mtime 0). */
export function makeTar(files: Record<string, Buffer | string>): Buffer {
  const parts: Buffer[] = [];
  for (const [name, content] of Object.entries(files)) {
    const data = Buffer.isBuffer(content) ? content : Buffer.from(content);
    const header = Buffer.alloc(512);
    header.write(name, 0, 100, 'utf8');
    header.write('0000644\0', 100, 'ascii');
    header.write('0000000\0', 108, 'ascii');
    header.write('0000000\0', 116, 'ascii');
    header.write(data.length.toString(8).padStart(11, '0') + '\0', 124, 'ascii');
    header.write('00000000000\0', 136, 'ascii');
    header.write('        ', 148, 'ascii');
    header.write('0', 156, 'ascii');
    header.write('ustar\0', 257, 'ascii');
    header.write('00', 263, 'ascii');
    let sum = 0;
    for (const byte of header) sum += byte;
    header.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'ascii');
    parts.push(header, data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { architecture: string; os: string; variant?: string };
  annotations?: Record<string, string>;
}

export function descriptor(mediaType: string, data: Buffer): Descriptor {
  return { mediaType, digest: sha256(data), size: data.length };
}

export interface MemImage {
  config: Buffer;
  layers: Buffer[];
  manifest: Buffer;
  digest: string;
  /** config + layers, each with its digest */
  blobs: { digest: string; data: Buffer }[];
}

/** A valid single-layer-per-tar OCI image: uncompressed tar layers, matching diff_ids. */
export function memImage(layerFiles: Record<string, Buffer | string>[], annotations?: Record<string, string>): MemImage {
  const layers = layerFiles.map((files) => makeTar(files));
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: {},
      rootfs: { type: 'layers', diff_ids: layers.map((l) => sha256(l)) },
    }),
  );
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: descriptor(MediaType.ociConfig, config),
      layers: layers.map((l) => descriptor(MediaType.ociLayerTar, l)),
      ...(annotations ? { annotations } : {}),
    }),
  );
  return {
    config,
    layers,
    manifest,
    digest: sha256(manifest),
    blobs: [config, ...layers].map((data) => ({ digest: sha256(data), data })),
  };
}

/** Uploads the blobs and PUTs the manifest under `ref`; throws with the exchange unless all are 201. */
export async function pushMemImage(b: Berth, repo: string, ref: string, img: MemImage): Promise<Exchange> {
  for (const blob of img.blobs) await uploadBlob(b, repo, blob.data);
  const put = await putManifest(b, repo, ref, img.manifest, MediaType.ociManifest);
  expectStatus(put, 201);
  return put;
}

// ---------------------------------------------------------------------------------------------
// large deterministic blobs, generated (not stored) at any offset

/** Pseudo-random bytes (AES-256-CTR keystream) that can be regenerated from any offset. */
export class PatternBlob {
  private readonly key: Buffer;
  private digestCache?: string;

  constructor(
    readonly seed: string,
    readonly size: number,
  ) {
    this.key = createHash('sha256').update(seed).digest();
  }

  /** Bytes [offset, offset+length). */
  slice(offset: number, length: number): Buffer {
    const end = Math.min(this.size, offset + length);
    if (end <= offset) return Buffer.alloc(0);
    const block = Math.floor(offset / 16);
    const iv = Buffer.alloc(16);
    iv.writeBigUInt64BE(BigInt(block), 8);
    const cipher = createCipheriv('aes-256-ctr', this.key, iv);
    const skip = offset - block * 16;
    const out = cipher.update(Buffer.alloc(end - offset + skip));
    return out.subarray(skip);
  }

  /** Calls fn with consecutive pieces of [start, end). */
  *pieces(start: number, end: number, pieceSize = 1 << 20): Generator<Buffer> {
    for (let off = start; off < end; off += pieceSize) yield this.slice(off, Math.min(pieceSize, end - off));
  }

  digest(): string {
    if (!this.digestCache) {
      const h = createHash('sha256');
      for (const p of this.pieces(0, this.size, 8 << 20)) h.update(p);
      this.digestCache = `sha256:${h.digest('hex')}`;
    }
    return this.digestCache;
  }
}

export interface StreamedPatch {
  /** Resolves with the response, or rejects when the connection breaks. */
  done: Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>;
  /** Bytes handed to the socket so far. */
  sent(): number;
}

/**
 * PATCH bytes [start, end) of `blob` to an upload session as one chunk (Content-Range + Content-Length),
 * streamed with backpressure. `onSent` is called after each piece is written.
 */
export function patchChunk(
  b: Berth,
  location: string,
  blob: PatternBlob,
  start: number,
  end: number,
  onSent?: (sentBytes: number) => void,
): StreamedPatch {
  const url = new URL(location, b.url);
  let sent = 0;
  const done = new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>((resolve, reject) => {
    const headers: Record<string, string> = {
      'content-type': 'application/octet-stream',
      'content-length': String(end - start),
      'content-range': `${start}-${end - 1}`,
    };
    if (b.authHeader) headers.authorization = b.authHeader;
    const req = http.request(url, { method: 'PATCH', headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    const pieces = blob.pieces(start, end);
    const pump = (): void => {
      for (;;) {
        const next = pieces.next();
        if (next.done) {
          req.end();
          return;
        }
        sent += next.value.length;
        const ok = req.write(next.value);
        onSent?.(sent);
        if (req.destroyed) return;
        if (!ok) {
          req.once('drain', pump);
          return;
        }
      }
    };
    pump();
  });
  return { done, sent: () => sent };
}

/** Downloads a blob and returns its sha256 digest and size without holding it in memory. */
export function hashBlob(b: Berth, repo: string, digest: string): Promise<{ status: number; digest: string; size: number; body?: string }> {
  const url = new URL(blobPath(repo, digest), b.url);
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {};
    if (b.authHeader) headers.authorization = b.authHeader;
    const get = (target: URL, hops: number): void => {
      const req = http.request(target, { method: 'GET', headers: target.host === url.host ? headers : {}, agent: false }, (res) => {
        if (res.statusCode && res.statusCode >= 300 && res.statusCode < 400 && res.headers.location && hops < 5) {
          res.resume();
          get(new URL(res.headers.location, target), hops + 1);
          return;
        }
        const h = createHash('sha256');
        let size = 0;
        const small: Buffer[] = [];
        res.on('data', (c: Buffer) => {
          h.update(c);
          size += c.length;
          if (size < 4096) small.push(c);
        });
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            digest: `sha256:${h.digest('hex')}`,
            size,
            body: res.statusCode === 200 ? undefined : Buffer.concat(small).toString(),
          }),
        );
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    };
    get(url, 0);
  });
}
