import type { FileHandle } from 'node:fs/promises';
import { BufferPool } from '../../runtime/buffer-pool.js';

const MAX_WRITES_IN_FLIGHT = 2;
const SYNC_EVERY_BYTES = 8 << 20;

/** Write buffers shared by all uploads: two in flight and one filling per upload, 1.5 MiB. */
const writeBuffers = new BufferPool(512 * 1024, 8);

/**
 * Writes a stream of chunks to a file at increasing positions. Chunks are copied into pooled 512 KiB
 * buffers, written with a couple of `pwrite`s in flight, so receiving and writing overlap and the
 * received chunks die young (cheap for the garbage collector) instead of waiting for the disk.
 * Every 8 MiB, and once at the end, `flush` (an fdatasync of the file) starts in the background and
 * is not waited for: the disk writes while bytes still arrive, and the fsync that commits the blob
 * finds little left.
 */
export class FileWriter {
  private position: number;
  private current: Buffer | undefined;
  private filled = 0;
  private readonly inFlight = new Set<Promise<void>>();
  private failure: unknown;
  private unsyncedBytes = 0;
  private syncing: Promise<void> | undefined;

  constructor(
    private readonly fh: FileHandle,
    start: number,
    private readonly flush: () => Promise<void>,
  ) {
    this.position = start;
  }

  async write(chunk: Buffer): Promise<void> {
    let offset = 0;
    while (offset < chunk.length) {
      if (this.failure) throw this.failure;
      this.current ??= writeBuffers.take();
      const copied = chunk.copy(this.current, this.filled, offset);
      offset += copied;
      this.filled += copied;
      if (this.filled === this.current.length) {
        this.dispatch();
        while (this.inFlight.size >= MAX_WRITES_IN_FLIGHT && !this.failure) await Promise.race(this.inFlight);
      }
    }
    if (this.failure) throw this.failure;
  }

  /** Writes what is buffered and waits for every write; rethrows the first failure. */
  async finish(): Promise<void> {
    this.dispatch();
    await this.settle();
    if (this.failure) throw this.failure;
    if (this.unsyncedBytes > 0 && !this.syncing) void this.flush().catch(() => undefined);
  }

  /** Waits for all writes, whatever their outcome, and gives back the buffer being filled. */
  async settle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
    if (this.current) writeBuffers.give(this.current);
    this.current = undefined;
    this.filled = 0;
  }

  private dispatch(): void {
    if (!this.current || this.filled === 0) return;
    const buffer = this.current;
    const length = this.filled;
    const position = this.position;
    this.current = undefined;
    this.filled = 0;
    this.position += length;
    const done = writeFully(this.fh, buffer, length, position).then(
      () => {
        this.unsyncedBytes += length;
        this.syncInBackground();
      },
      (err: unknown) => {
        this.failure ??= err;
      },
    );
    const tracked: Promise<void> = done.finally(() => {
      this.inFlight.delete(tracked);
      writeBuffers.give(buffer);
    });
    this.inFlight.add(tracked);
  }

  private syncInBackground(): void {
    if (this.syncing || this.unsyncedBytes < SYNC_EVERY_BYTES) return;
    this.unsyncedBytes = 0;
    // A failed sync here resurfaces in the fsync that commits the blob.
    this.syncing = this.flush()
      .catch(() => undefined)
      .finally(() => {
        this.syncing = undefined;
      });
  }
}

async function writeFully(fh: FileHandle, buffer: Buffer, length: number, position: number): Promise<void> {
  let offset = 0;
  while (offset < length) {
    const { bytesWritten } = await fh.write(buffer, offset, length - offset, position + offset);
    if (bytesWritten === 0) throw new Error('short write: the disk accepted no bytes');
    offset += bytesWritten;
  }
}
