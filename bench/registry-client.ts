// A thin OCI Distribution client over undici, just the calls the workloads need.
// Every call checks the exact status the spec prescribes and throws otherwise.
import { Readable } from 'node:stream';
import { Pool, type Dispatcher } from 'undici';
import { blobSlices, bytesBlob, type Blob } from './random-blob.js';

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
export const MANIFEST_ACCEPT = `${OCI_MANIFEST}, ${DOCKER_MANIFEST}`;
const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
const OCI_LAYER = 'application/vnd.oci.image.layer.v1.tar';

export class UnexpectedStatus extends Error {
  constructor(method: string, path: string, expected: number, status: number, body: string) {
    super(`${method} ${path}: expected HTTP ${expected}, got ${status}${body ? `: ${body.slice(0, 300)}` : ''}`);
  }
}

export interface PushedImage {
  repo: string;
  tag: string;
  manifestDigest: string;
  config: Blob;
  layers: Blob[];
}

type Body = Dispatcher.DispatchOptions['body'];

function streamOf(slices: Iterable<Buffer>): Readable {
  return Readable.from(slices, { objectMode: false });
}

/** For an https origin: the CA to trust, and whether to offer HTTP/2 (ALPN h2) as well as HTTP/1.1. */
export interface ClientTls {
  ca: Buffer;
  allowH2?: boolean;
}

export class RegistryClient {
  readonly pool: Pool;

  constructor(readonly origin: string, private readonly authorization: string | undefined, connections = 1, tls?: ClientTls) {
    this.pool = new Pool(origin, {
      connections,
      headersTimeout: 600_000,
      bodyTimeout: 600_000,
      pipelining: 1,
      ...(tls ? { connect: { ca: tls.ca }, allowH2: tls.allowH2 ?? false } : {}),
    });
  }

  headers(extra: Record<string, string> = {}): Record<string, string> {
    return this.authorization ? { authorization: this.authorization, ...extra } : extra;
  }

  async close(): Promise<void> {
    await this.pool.close();
  }

  private async call(method: Dispatcher.HttpMethod, path: string, expected: number, headers: Record<string, string> = {}, body?: Body) {
    const res = await this.pool.request({ method, path, headers: this.headers(headers), body });
    if (res.statusCode !== expected) {
      const text = await res.body.text().catch(() => '');
      throw new UnexpectedStatus(method, path, expected, res.statusCode, text);
    }
    return res;
  }

  /** Path + query of a Location header, which may be absolute or relative. */
  private locationPath(location: unknown, extraQuery: Record<string, string> = {}): string {
    if (typeof location !== 'string') throw new Error('upload response has no Location header');
    const url = new URL(location, this.origin);
    for (const [k, v] of Object.entries(extraQuery)) url.searchParams.set(k, v);
    return url.pathname + url.search;
  }

  async startUpload(repo: string): Promise<string> {
    const res = await this.call('POST', `/v2/${repo}/blobs/uploads/`, 202);
    await res.body.dump();
    return this.locationPath(res.headers.location);
  }

  /** POST, then one PUT ?digest= carrying the whole blob. */
  async pushMonolithic(repo: string, blob: Blob): Promise<void> {
    const location = await this.startUpload(repo);
    const res = await this.call(
      'PUT',
      this.locationPath(location, { digest: blob.digest }),
      201,
      { 'content-type': 'application/octet-stream', 'content-length': String(blob.size) },
      blob.bytes ?? streamOf(blobSlices(blob)),
    );
    await res.body.dump();
  }

  /** POST, PATCH parts of `chunkBytes` with Content-Range, then an empty PUT ?digest=. */
  async pushChunked(repo: string, blob: Blob, chunkBytes: number): Promise<void> {
    let location = await this.startUpload(repo);
    for (let start = 0; start < blob.size; start += chunkBytes) {
      const end = Math.min(blob.size, start + chunkBytes);
      const res = await this.call(
        'PATCH',
        location,
        202,
        { 'content-type': 'application/octet-stream', 'content-length': String(end - start), 'content-range': `${start}-${end - 1}` },
        streamOf(blobSlices(blob, start, end)),
      );
      await res.body.dump();
      location = this.locationPath(res.headers.location);
    }
    const res = await this.call('PUT', this.locationPath(location, { digest: blob.digest }), 201, { 'content-length': '0' });
    await res.body.dump();
  }

  /** GET the blob, streaming it into nothing; returns the byte count. */
  async pullBlob(repo: string, digest: string): Promise<number> {
    const res = await this.call('GET', `/v2/${repo}/blobs/${digest}`, 200);
    let bytes = 0;
    for await (const chunk of res.body) bytes += (chunk as Buffer).length;
    return bytes;
  }

  async headBlob(repo: string, digest: string): Promise<void> {
    const res = await this.call('HEAD', `/v2/${repo}/blobs/${digest}`, 200);
    await res.body.dump();
  }

  async putManifest(repo: string, reference: string, bytes: Buffer, mediaType = OCI_MANIFEST): Promise<void> {
    const res = await this.call('PUT', `/v2/${repo}/manifests/${reference}`, 201, { 'content-type': mediaType }, bytes);
    await res.body.dump();
  }

  async getManifest(repo: string, reference: string): Promise<Buffer> {
    const res = await this.call('GET', `/v2/${repo}/manifests/${reference}`, 200, { accept: MANIFEST_ACCEPT });
    return Buffer.from(await res.body.arrayBuffer());
  }

  async headManifest(repo: string, reference: string): Promise<void> {
    const res = await this.call('HEAD', `/v2/${repo}/manifests/${reference}`, 200, { accept: MANIFEST_ACCEPT });
    await res.body.dump();
  }

  /** Push layers (monolithic), the fixed config, and an OCI manifest tagged `tag`. */
  async pushImage(repo: string, tag: string, layers: Blob[]): Promise<PushedImage> {
    for (const layer of layers) await this.pushMonolithic(repo, layer);
    const config = imageConfig(layers);
    await this.pushMonolithic(repo, config);
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        config: { mediaType: OCI_CONFIG, digest: config.digest, size: config.size },
        layers: layers.map((l) => ({ mediaType: OCI_LAYER, digest: l.digest, size: l.size })),
      }),
    );
    await this.putManifest(repo, tag, manifest);
    return { repo, tag, manifestDigest: bytesBlob(manifest).digest, config, layers };
  }
}

/** A fixed image config in the spirit of zb's (constant fields, diff_ids of the uncompressed layers). */
function imageConfig(layers: Blob[]): Blob {
  return bytesBlob(
    Buffer.from(
      JSON.stringify({
        created: '2011-01-01T01:01:01.000000001Z',
        author: 'berth-bench',
        architecture: 'amd64',
        os: 'linux',
        config: {},
        rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) },
      }),
    ),
  );
}
