import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat, truncate } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { BlobStore, ByteRange } from './blob-store.js';

const UPLOAD_ID = /^[A-Za-z0-9-]{1,64}$/;
const DIGEST = /^([a-z0-9]+):([a-f0-9]{32,256})$/;

/** Blobs as files under `<root>/blobs/<alg>/<2 hex>/<hex>`; uploads under `<root>/uploads/<id>`. */
export class FsBlobStore implements BlobStore {
  private readonly blobRoot: string;
  private readonly uploadRoot: string;

  constructor(root: string) {
    this.blobRoot = join(root, 'blobs');
    this.uploadRoot = join(root, 'uploads');
  }

  async init(): Promise<void> {
    await mkdir(this.blobRoot, { recursive: true });
    await mkdir(this.uploadRoot, { recursive: true });
  }

  private blobPath(digest: string): string {
    const m = DIGEST.exec(digest);
    if (!m) throw new Error(`not a storable digest: ${digest}`);
    return join(this.blobRoot, m[1]!, m[2]!.slice(0, 2), m[2]!);
  }

  private uploadPath(id: string): string {
    if (!UPLOAD_ID.test(id)) throw new Error(`not an upload id: ${id}`);
    return join(this.uploadRoot, id);
  }

  async writeUpload(id: string, offset: number, data: AsyncIterable<Buffer>): Promise<number> {
    const path = this.uploadPath(id);
    // Create if missing without truncating what an earlier chunk wrote.
    await (await open(path, 'a')).close();
    let written = 0;
    const out = createWriteStream(path, { flags: 'r+', start: offset, highWaterMark: 1 << 20 });
    await pipeline(data, async function* (source: AsyncIterable<Buffer>) {
      for await (const chunk of source) {
        written += chunk.length;
        yield chunk;
      }
    }, out);
    // A chunk that failed midway earlier may have left bytes past the new end.
    await truncate(path, offset + written);
    return written;
  }

  readUpload(id: string): Readable {
    return createReadStream(this.uploadPath(id), { highWaterMark: 1 << 20 });
  }

  async commitUpload(id: string, digest: string, size: number): Promise<void> {
    const source = this.uploadPath(id);
    const target = this.blobPath(digest);
    const existing = await this.stat(digest);
    if (existing === size) {
      await rm(source, { force: true });
      return;
    }
    // 'a+' creates the file of an upload that never received a byte (an empty blob).
    const fh = await open(source, 'a+');
    try {
      await fh.truncate(size);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await mkdir(dirname(target), { recursive: true });
    await rename(source, target);
    await syncDir(dirname(target));
  }

  async deleteUpload(id: string): Promise<void> {
    await rm(this.uploadPath(id), { force: true });
  }

  async stat(digest: string): Promise<number | undefined> {
    try {
      return (await stat(this.blobPath(digest))).size;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  }

  read(digest: string, range?: ByteRange): Readable {
    return createReadStream(this.blobPath(digest), { highWaterMark: 1 << 20, start: range?.start, end: range?.end });
  }

  async delete(digest: string): Promise<void> {
    await rm(this.blobPath(digest), { force: true });
  }

  async *list(): AsyncIterable<string> {
    for (const alg of await readdirSafe(this.blobRoot)) {
      for (const prefix of await readdirSafe(join(this.blobRoot, alg))) {
        for (const hex of await readdirSafe(join(this.blobRoot, alg, prefix))) yield `${alg}:${hex}`;
      }
    }
  }

  async *listUploads(): AsyncIterable<{ id: string; modifiedAt: number }> {
    for (const id of await readdirSafe(this.uploadRoot)) {
      try {
        yield { id, modifiedAt: (await stat(join(this.uploadRoot, id))).mtimeMs };
      } catch {
        // removed meanwhile
      }
    }
  }
}

async function readdirSafe(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}

async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
