import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  UploadPartCopyCommand,
  type _Object,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { BlobReader, BlobStore, ByteRange } from './blob-store.js';
import { planParts, type Piece, type PlannedPart } from './compose-plan.js';

const UPLOAD_ID = /^[A-Za-z0-9-]{1,64}$/;
const DIGEST = /^([a-z0-9]+):([a-f0-9]{32,256})$/;
/** Staged objects of one append are at most this large: the bytes one append holds in memory per object. */
const STAGED_OBJECT_BYTES = 8 * 1024 * 1024;
/** Staged objects of one append being sent at once. */
const STAGING_CONCURRENCY = 2;
/** Parts of a blob being composed at once. */
const COMPOSE_CONCURRENCY = 4;
/** Offsets in staged object names are zero-padded so that names sort by offset. */
const OFFSET_DIGITS = 16;
/** S3 presigned URLs live at most 7 days. */
const MAX_URL_SECONDS = 7 * 24 * 3600;

export interface S3Location {
  bucket: string;
  /** Key prefix, without leading or trailing slash; '' for the bucket's root. */
  prefix: string;
  /** The store's own encryption, asked for on every object written. */
  serverSideEncryption?: { type: 'AES256' | 'aws:kms'; kmsKeyId?: string };
}

interface StagedObject {
  key: string;
  offset: number;
  size: number;
  modifiedAt: number;
}

/**
 * Blobs as objects `<prefix>/blobs/<alg>/<2 hex>/<hex>` in an S3-compatible bucket. Each append to an
 * upload stores its bytes as staged objects `<prefix>/uploads/<id>/<offset>` (so any node may take
 * any chunk), and a commit composes them into the blob with a multipart upload — copying inside the
 * store where the staged objects are large enough — so the blob appears whole or not at all.
 */
/** How long a readiness probe waits for the object store. */
const PROBE_TIMEOUT_MS = 2000;

export class S3BlobStore implements BlobStore {
  private readonly root: string;
  /** The parameters that ask for server-side encryption, spread into every request that writes an object. */
  private readonly sse: { ServerSideEncryption?: 'AES256' | 'aws:kms'; SSEKMSKeyId?: string };

  constructor(
    private readonly client: S3Client,
    private readonly location: S3Location,
  ) {
    this.root = location.prefix ? `${location.prefix}/` : '';
    const sse = location.serverSideEncryption;
    this.sse = sse ? { ServerSideEncryption: sse.type, ...(sse.kmsKeyId ? { SSEKMSKeyId: sse.kmsKeyId } : {}) } : {};
  }

  /** Creates the bucket if it is missing. */
  async init(): Promise<void> {
    const Bucket = this.location.bucket;
    try {
      await this.client.send(new HeadBucketCommand({ Bucket }));
      return;
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
    const region = await this.client.config.region();
    try {
      await this.client.send(
        new CreateBucketCommand({ Bucket, CreateBucketConfiguration: region === 'us-east-1' ? undefined : { LocationConstraint: region as never } }),
      );
    } catch (e) {
      // Another node made it meanwhile.
      if ((e as Error).name !== 'BucketAlreadyOwnedByYou') throw e;
    }
  }

  async probe(): Promise<void> {
    await this.client.send(new HeadBucketCommand({ Bucket: this.location.bucket }), { abortSignal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
  }

  close(): void {
    this.client.destroy();
  }

  private get bucket(): string {
    return this.location.bucket;
  }

  private blobKey(digest: string): string {
    const m = DIGEST.exec(digest);
    if (!m) throw new Error(`not a storable digest: ${digest}`);
    return `${this.root}blobs/${m[1]!}/${m[2]!.slice(0, 2)}/${m[2]!}`;
  }

  private uploadDir(id: string): string {
    if (!UPLOAD_ID.test(id)) throw new Error(`not an upload id: ${id}`);
    return `${this.root}uploads/${id}/`;
  }

  private stagedKey(id: string, offset: number): string {
    return this.uploadDir(id) + String(offset).padStart(OFFSET_DIGITS, '0');
  }

  // ---- uploads ---------------------------------------------------------------------------

  /**
   * Stores the appended bytes as staged objects of at most 8 MiB, named by their offset. A retry at
   * the same offset overwrites what a failed append left; what lies past the counted length is
   * never read (see `chain`).
   */
  async appendUpload(id: string, offset: number, data: AsyncIterable<Buffer>): Promise<number> {
    const inFlight = new Set<Promise<void>>();
    let failure: unknown;
    const send = (at: number, body: Buffer) => {
      const p = this.client
        .send(new PutObjectCommand({ Bucket: this.bucket, Key: this.stagedKey(id, at), Body: body, ContentLength: body.length, ...this.sse }))
        .then(
          () => undefined,
          (e: unknown) => {
            failure ??= e;
          },
        )
        .finally(() => inFlight.delete(p));
      inFlight.add(p);
    };
    let written = 0;
    let buffer = Buffer.allocUnsafe(STAGED_OBJECT_BYTES);
    let filled = 0;
    try {
      for await (const chunk of data) {
        for (let at = 0; at < chunk.length; ) {
          const n = chunk.copy(buffer, filled, at);
          filled += n;
          at += n;
          if (filled === buffer.length) {
            send(offset + written, buffer);
            written += filled;
            buffer = Buffer.allocUnsafe(STAGED_OBJECT_BYTES);
            filled = 0;
            while (inFlight.size >= STAGING_CONCURRENCY) await Promise.race(inFlight);
            if (failure) throw failure;
          }
        }
      }
      if (filled > 0) {
        send(offset + written, buffer.subarray(0, filled));
        written += filled;
      }
    } finally {
      await Promise.all(inFlight);
    }
    if (failure) throw failure;
    return written;
  }

  async *readUpload(id: string, size: number): AsyncIterable<Buffer> {
    if (size <= 0) return;
    for (const piece of chain(await this.staged(id), size, id)) yield* this.readPiece(piece);
  }

  async commitUpload(id: string, digest: string, size: number): Promise<void> {
    const Key = this.blobKey(digest);
    if ((await this.stat(digest)) !== size) {
      const pieces = size === 0 ? [] : chain(await this.staged(id), size, id);
      await this.compose(Key, pieces, size);
      const stored = await this.stat(digest);
      if (stored !== size) throw new Error(`composed ${Key} has ${stored} bytes, expected ${size}`);
    }
    await this.cancelUpload(id);
  }

  async cancelUpload(id: string): Promise<void> {
    const keys = (await this.staged(id)).map((o) => o.key);
    await this.deleteKeys(keys);
  }

  async *listUploads(): AsyncIterable<{ id: string; modifiedAt: number }> {
    let current: { id: string; modifiedAt: number } | undefined;
    for await (const o of this.listObjects(`${this.root}uploads/`)) {
      const [id, part] = o.Key!.slice(this.root.length + 'uploads/'.length).split('/');
      // Not ours: objects someone else put under the prefix.
      if (!id || !UPLOAD_ID.test(id) || part === undefined) continue;
      const modifiedAt = o.LastModified?.getTime() ?? 0;
      // Names sort, so the objects of one upload come together.
      if (current?.id === id) current.modifiedAt = Math.max(current.modifiedAt, modifiedAt);
      else {
        if (current) yield current;
        current = { id, modifiedAt };
      }
    }
    if (current) yield current;
  }

  private async staged(id: string): Promise<StagedObject[]> {
    const dir = this.uploadDir(id);
    const out: StagedObject[] = [];
    for await (const o of this.listObjects(dir)) {
      const offset = Number(o.Key!.slice(dir.length));
      if (!Number.isSafeInteger(offset)) continue;
      out.push({ key: o.Key!, offset, size: o.Size ?? 0, modifiedAt: o.LastModified?.getTime() ?? 0 });
    }
    return out;
  }

  private async *readPiece(piece: Piece): AsyncIterable<Buffer> {
    const whole = piece.start === 0 && piece.length === piece.objectSize;
    const res = await this.client.send(
      new GetObjectCommand({ Bucket: this.bucket, Key: piece.key, Range: whole ? undefined : `bytes=${piece.start}-${piece.start + piece.length - 1}` }),
    );
    for await (const chunk of res.Body as Readable) yield chunk as Buffer;
  }

  /** Writes `pieces` as one object: a single request where one suffices, else a multipart upload. */
  private async compose(Key: string, pieces: Piece[], size: number): Promise<void> {
    const Bucket = this.bucket;
    const only = pieces.length === 1 ? pieces[0]! : undefined;
    if (size === 0) {
      await this.client.send(new PutObjectCommand({ Bucket, Key, Body: Buffer.alloc(0), ContentLength: 0, ...this.sse }));
      return;
    }
    const parts = planParts(pieces, size, STAGED_OBJECT_BYTES);
    // CopyObject of an encrypted object is not implemented by every S3-compatible store (Ceph 16):
    // with server-side encryption, a whole-object copy goes through a one-part multipart copy.
    if (only && only.start === 0 && only.length === only.objectSize && parts.length === 1 && !this.sse.ServerSideEncryption) {
      await this.client.send(new CopyObjectCommand({ Bucket, Key, CopySource: copySource(Bucket, only.key) }));
      return;
    }
    if (parts.length === 1 && parts[0]!.kind === 'stream') {
      const body = await this.gather(parts[0]!.pieces, parts[0]!.length);
      await this.client.send(new PutObjectCommand({ Bucket, Key, Body: body, ContentLength: body.length, ...this.sse }));
      return;
    }
    const { UploadId } = await this.client.send(new CreateMultipartUploadCommand({ Bucket, Key, ...this.sse }));
    try {
      const etags = await mapLimit(parts, COMPOSE_CONCURRENCY, (part, i) => this.sendPart(Key, UploadId!, i + 1, part));
      await this.client.send(
        new CompleteMultipartUploadCommand({
          Bucket,
          Key,
          UploadId,
          MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
        }),
      );
    } catch (e) {
      await this.client.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId })).catch(() => undefined);
      throw e;
    }
  }

  private async sendPart(Key: string, UploadId: string, PartNumber: number, part: PlannedPart): Promise<string> {
    const Bucket = this.bucket;
    if (part.kind === 'copy') {
      const { piece } = part;
      const res = await this.client.send(
        new UploadPartCopyCommand({
          Bucket,
          Key,
          UploadId,
          PartNumber,
          CopySource: copySource(Bucket, piece.key),
          CopySourceRange: `bytes=${piece.start}-${piece.start + piece.length - 1}`,
        }),
      );
      return res.CopyPartResult!.ETag!;
    }
    const body = await this.gather(part.pieces, part.length);
    const res = await this.client.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber, Body: body, ContentLength: body.length }));
    return res.ETag!;
  }

  /** The pieces' bytes in one buffer (at most one part's worth). */
  private async gather(pieces: Piece[], length: number): Promise<Buffer> {
    const out = Buffer.allocUnsafe(length);
    let at = 0;
    for (const piece of pieces) {
      for await (const chunk of this.readPiece(piece)) at += chunk.copy(out, at);
    }
    if (at !== length) throw new Error(`read ${at} bytes of staged upload data, expected ${length}`);
    return out;
  }

  // ---- blobs -----------------------------------------------------------------------------

  async stat(digest: string): Promise<number | undefined> {
    try {
      const res = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.blobKey(digest) }));
      return res.ContentLength ?? 0;
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  async openReader(digest: string, range?: ByteRange): Promise<BlobReader | undefined> {
    let body: Readable;
    let storedSize: number | undefined;
    try {
      const res = await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: this.blobKey(digest), Range: range ? `bytes=${range.start}-${range.end}` : undefined }),
      );
      body = res.Body as Readable;
      // `bytes 0-99/1234` names the whole object's size; without a range, the length is it.
      const total = /\/(\d+)$/.exec(res.ContentRange ?? '')?.[1];
      storedSize = total !== undefined ? Number(total) : range ? undefined : res.ContentLength;
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
    return new StreamReader(body, storedSize);
  }

  async directUrl(digest: string, expiresInSeconds: number): Promise<string> {
    const command = new GetObjectCommand({ Bucket: this.bucket, Key: this.blobKey(digest) });
    return getSignedUrl(this.client, command, { expiresIn: Math.min(Math.max(1, Math.floor(expiresInSeconds)), MAX_URL_SECONDS) });
  }

  async delete(digest: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.blobKey(digest) }));
  }

  async *list(): AsyncIterable<string> {
    const dir = `${this.root}blobs/`;
    for await (const o of this.listObjects(dir)) {
      const [alg, , hex] = o.Key!.slice(dir.length).split('/');
      const digest = `${alg}:${hex}`;
      if (DIGEST.test(digest)) yield digest;
    }
  }

  // ---- helpers ---------------------------------------------------------------------------

  private async *listObjects(Prefix: string): AsyncIterable<_Object> {
    let ContinuationToken: string | undefined;
    do {
      const res = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix, ContinuationToken }));
      yield* res.Contents ?? [];
      ContinuationToken = res.IsTruncated ? res.NextContinuationToken : undefined;
    } while (ContinuationToken);
  }

  private async deleteKeys(keys: string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += 1000) {
      const Objects = keys.slice(i, i + 1000).map((Key) => ({ Key }));
      const res = await this.client.send(new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects, Quiet: true } }));
      const failed = (res.Errors ?? []).filter((err) => err.Code !== 'NoSuchKey');
      if (failed.length > 0) throw new Error(`could not delete ${failed[0]!.Key}: ${failed[0]!.Code} ${failed[0]!.Message}`);
    }
  }
}

/**
 * The staged objects that hold an upload's first `size` bytes, in order: from offset 0, each next
 * object starts where the previous ended. Objects a failed append left elsewhere are skipped.
 */
function chain(objects: StagedObject[], size: number, id: string): Piece[] {
  const byOffset = new Map(objects.map((o) => [o.offset, o]));
  const pieces: Piece[] = [];
  for (let at = 0; at < size; ) {
    const o = byOffset.get(at);
    if (!o || o.size === 0) throw new Error(`upload ${id} has no staged bytes at offset ${at}`);
    const length = Math.min(o.size, size - at);
    pieces.push({ key: o.key, start: 0, length, objectSize: o.size });
    at += length;
  }
  return pieces;
}

function copySource(bucket: string, key: string): string {
  return `${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
}

function isNotFound(e: unknown): boolean {
  const err = e as { name?: string; $metadata?: { httpStatusCode?: number } };
  return err.name === 'NoSuchKey' || err.name === 'NotFound' || err.name === 'NoSuchBucket' || err.$metadata?.httpStatusCode === 404;
}

/** Runs `fn` over `items`, at most `limit` at once; results in the items' order. */
async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** Fills caller buffers from a response body. */
class StreamReader implements BlobReader {
  private readonly chunks: AsyncIterator<Buffer>;
  private rest: Buffer = Buffer.alloc(0);
  private done = false;

  constructor(
    private readonly body: Readable,
    readonly storedSize?: number,
  ) {
    this.chunks = (body as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  }

  async read(into: Buffer): Promise<number> {
    let filled = 0;
    while (filled < into.length) {
      if (this.rest.length === 0) {
        if (this.done) break;
        const next = await this.chunks.next();
        if (next.done) {
          this.done = true;
          break;
        }
        this.rest = next.value;
      }
      const n = this.rest.copy(into, filled);
      filled += n;
      this.rest = this.rest.subarray(n);
    }
    return filled;
  }

  async close(): Promise<void> {
    this.body.destroy();
  }
}
