import type { FileHandle } from 'node:fs/promises';
import { BufferPool } from '../../runtime/buffer-pool.js';
import { DIRECT_IO_ALIGNMENT, pageAlignedBuffers } from './aligned-buffers.js';

const MAX_WRITES_IN_FLIGHT = 2;
const SYNC_EVERY_BYTES = 8 << 20;

/** Write buffers shared by all uploads: two in flight and one filling per upload, 1.5 MiB. */
const writeBuffers = new BufferPool(512 * 1024, 16, pageAlignedBuffers);

export interface FileWriterOptions {
  /**
   * The file was opened with O_DIRECT: writes go to the disk, not the page cache, so they must start
   * and end on DIRECT_IO_ALIGNMENT boundaries. The writer re-reads a partial first block and pads the
   * last one; the caller truncates the file to the real end afterwards.
   */
  direct: boolean;
  /** An fdatasync of the file, started in the background as buffered writes accumulate. */
  flush: () => Promise<void>;
}

/**
 * Writes a stream of chunks to a file from a start offset. Chunks are copied into pooled, aligned
 * 512 KiB buffers written with a couple of `pwrite`s in flight, so receiving and writing overlap and
 * the received chunks die young (cheap for the garbage collector) instead of waiting for the disk.
 *
 * Durability is the committer's fsync; the writer makes it cheap. With O_DIRECT the bytes are on the
 * disk when each write returns (on a machine measured in BENCHMARKS.md, 6x faster than page-cache
 * write-back). Buffered, an fdatasync starts in the background every 8 MiB and once at the end, so
 * the disk writes while bytes still arrive.
 */
export class FileWriter {
  /** File position of the first byte in `current`. */
  private position: number;
  private current: Buffer | undefined;
  private filled = 0;
  private readonly inFlight = new Set<Promise<void>>();
  private failure: unknown;
  private unsyncedBytes = 0;
  private syncing: Promise<void> | undefined;

  private constructor(
    private readonly fh: FileHandle,
    start: number,
    private readonly options: FileWriterOptions,
  ) {
    this.position = start;
  }

  static async open(fh: FileHandle, start: number, options: FileWriterOptions): Promise<FileWriter> {
    const writer = new FileWriter(fh, start, options);
    if (options.direct) await writer.reloadPartialBlock(start);
    return writer;
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
    if (!this.options.direct && this.unsyncedBytes > 0 && !this.syncing) void this.options.flush().catch(() => undefined);
  }

  /** Waits for all writes, whatever their outcome, and gives back the buffer being filled. */
  async settle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
    if (this.current) writeBuffers.give(this.current);
    this.current = undefined;
    this.filled = 0;
  }

  /** O_DIRECT writes whole blocks: start from the block holding `start`, with its bytes before `start`. */
  private async reloadPartialBlock(start: number): Promise<void> {
    const head = start % DIRECT_IO_ALIGNMENT;
    if (head === 0) return;
    this.position = start - head;
    this.current = writeBuffers.take();
    const { bytesRead } = await this.fh.read(this.current, 0, DIRECT_IO_ALIGNMENT, this.position);
    if (bytesRead < head) throw new Error(`upload file ends before its recorded size ${start}`);
    this.filled = head;
  }

  private dispatch(): void {
    if (!this.current || this.filled === 0) return;
    const buffer = this.current;
    const length = this.options.direct ? roundUp(this.filled, DIRECT_IO_ALIGNMENT) : this.filled;
    const position = this.position;
    this.current = undefined;
    this.position += this.filled;
    this.filled = 0;
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
    if (this.options.direct || this.syncing || this.unsyncedBytes < SYNC_EVERY_BYTES) return;
    this.unsyncedBytes = 0;
    // A failed sync here resurfaces in the fsync that commits the blob.
    this.syncing = this.options
      .flush()
      .catch(() => undefined)
      .finally(() => {
        this.syncing = undefined;
      });
  }
}

function roundUp(n: number, multiple: number): number {
  return Math.ceil(n / multiple) * multiple;
}

async function writeFully(fh: FileHandle, buffer: Buffer, length: number, position: number): Promise<void> {
  let offset = 0;
  while (offset < length) {
    const { bytesWritten } = await fh.write(buffer, offset, length - offset, position + offset);
    if (bytesWritten === 0) throw new Error('short write: the disk accepted no bytes');
    offset += bytesWritten;
  }
}
