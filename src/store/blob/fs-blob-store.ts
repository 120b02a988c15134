import { constants, createReadStream } from 'node:fs';
import { access, mkdir, open, readdir, rename, rm, stat, statfs, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { BlobReader, BlobStore, ByteRange } from './blob-store.js';
import { FileWriter } from './file-writer.js';

const UPLOAD_ID = /^[A-Za-z0-9-]{1,64}$/;
const DIGEST = /^([a-z0-9]+):([a-f0-9]{32,256})$/;

/** Blobs as files under `<root>/blobs/<alg>/<2 hex>/<hex>`; uploads under `<root>/uploads/<id>`. */
export class FsBlobStore implements BlobStore {
  private readonly blobRoot: string;
  private readonly uploadRoot: string;
  /** Whether the filesystem takes O_DIRECT; unknown until the first upload. */
  private directIo: boolean | undefined;

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

  async appendUpload(id: string, offset: number, data: AsyncIterable<Buffer>): Promise<number> {
    const path = this.uploadPath(id);
    const { fh, direct } = await this.openUpload(path);
    try {
      const writer = await FileWriter.open(fh, offset, { direct, flush: () => flush(path, 'data') });
      let written = 0;
      try {
        for await (const chunk of data) {
          written += chunk.length;
          await writer.write(chunk);
        }
        await writer.finish();
      } catch (e) {
        await writer.settle().catch(() => undefined);
        // What the failed append wrote is not part of the upload: give its space back now.
        await fh.truncate(offset).catch(() => undefined);
        throw e;
      } finally {
        await writer.settle();
      }
      // Drops the padding of the last direct write, and whatever a chunk that failed midway left.
      await fh.truncate(offset + written);
      return written;
    } finally {
      await fh.close();
    }
  }

  /** Opens (creating, never truncating) an upload file for writing, with O_DIRECT where the filesystem has it. */
  private async openUpload(path: string): Promise<{ fh: FileHandle; direct: boolean }> {
    const flags = constants.O_RDWR | constants.O_CREAT;
    if (this.directIo !== false && constants.O_DIRECT !== undefined) {
      try {
        const fh = await open(path, flags | constants.O_DIRECT, 0o644);
        this.directIo = true;
        return { fh, direct: true };
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EINVAL') throw e;
        this.directIo = false;
      }
    }
    return { fh: await open(path, flags, 0o644), direct: false };
  }

  async *readUpload(id: string, size: number): AsyncIterable<Buffer> {
    let remaining = size;
    if (remaining <= 0) return;
    for await (const chunk of createReadStream(this.uploadPath(id), { highWaterMark: 1 << 20, end: size - 1 })) {
      const buf = chunk as Buffer;
      remaining -= buf.length;
      yield buf;
      if (remaining <= 0) return;
    }
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
    await flush(dirname(target), 'all');
  }

  async probe(): Promise<void> {
    await access(this.uploadRoot, constants.W_OK);
  }

  async freeBytes(): Promise<number> {
    const fs = await statfs(this.uploadRoot);
    return fs.bavail * fs.bsize;
  }

  async cancelUpload(id: string): Promise<void> {
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

  async openReader(digest: string, range?: ByteRange): Promise<BlobReader | undefined> {
    let fh: FileHandle;
    try {
      fh = await open(this.blobPath(digest), 'r');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
    let position = range?.start ?? 0;
    let storedSize: number;
    try {
      storedSize = (await fh.stat()).size;
    } catch (e) {
      await fh.close();
      throw e;
    }
    const end = range ? range.end + 1 : storedSize;
    return {
      storedSize,
      async read(into: Buffer): Promise<number> {
        const length = Math.min(into.length, end - position);
        if (length <= 0) return 0;
        const { bytesRead } = await fh.read(into, 0, length, position);
        position += bytesRead;
        return bytesRead;
      },
      close: () => fh.close(),
    };
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

/** fdatasync (or fsync) through a handle of its own, which may outlive the writer's handle. */
async function flush(path: string, what: 'data' | 'all'): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await (what === 'data' ? fh.datasync() : fh.sync());
  } finally {
    await fh.close();
  }
}
