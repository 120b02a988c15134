import type { FileHandle } from 'node:fs/promises';

const BATCH_BYTES = 1 << 20;
const MAX_IN_FLIGHT_BYTES = 2 << 20;
const SYNC_EVERY_BYTES = 8 << 20;

/**
 * Writes a stream of chunks to a file at increasing positions. Chunks are batched into 1 MiB
 * `pwritev` calls with a few in flight, so receiving and writing overlap. Every 8 MiB, and once at
 * the end, `flush` (an fdatasync of the file) starts in the background and is not waited for: the
 * disk writes while bytes still arrive, and the fsync that commits the blob finds little left.
 */
export class FileWriter {
  private position: number;
  private batch: Buffer[] = [];
  private batchBytes = 0;
  private inFlight = new Set<Promise<void>>();
  private inFlightBytes = 0;
  private failure: unknown;
  private unsyncedBytes = 0;
  private syncing: Promise<void> | undefined;

  constructor(private readonly fh: FileHandle, start: number, private readonly flush: () => Promise<void>) {
    this.position = start;
  }

  async write(chunk: Buffer): Promise<void> {
    if (this.failure) throw this.failure;
    if (chunk.length === 0) return;
    this.batch.push(chunk);
    this.batchBytes += chunk.length;
    if (this.batchBytes >= BATCH_BYTES) this.dispatch();
    while (this.inFlightBytes > MAX_IN_FLIGHT_BYTES && !this.failure) await Promise.race(this.inFlight);
    if (this.failure) throw this.failure;
  }

  /** Writes what is batched and waits for every write; rethrows the first failure. */
  async finish(): Promise<void> {
    this.dispatch();
    await this.settle();
    if (this.failure) throw this.failure;
    if (this.unsyncedBytes > 0 && !this.syncing) void this.flush().catch(() => undefined);
  }

  /** Waits for all writes, whatever their outcome. */
  async settle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  private dispatch(): void {
    if (this.batchBytes === 0) return;
    const buffers = this.batch;
    const bytes = this.batchBytes;
    const position = this.position;
    this.batch = [];
    this.batchBytes = 0;
    this.position += bytes;
    this.inFlightBytes += bytes;
    const done = writeFully(this.fh, buffers, position).then(
      () => {
        this.unsyncedBytes += bytes;
        this.syncInBackground();
      },
      (err: unknown) => {
        this.failure ??= err;
      },
    );
    const tracked: Promise<void> = done.finally(() => {
      this.inFlight.delete(tracked);
      this.inFlightBytes -= bytes;
    });
    this.inFlight.add(tracked);
  }

  private syncInBackground(): void {
    if (this.syncing || this.unsyncedBytes < SYNC_EVERY_BYTES) return;
    this.unsyncedBytes = 0;
    // A failed sync here resurfaces in the fsync that commits the blob.
    this.syncing = this.flush().catch(() => undefined).finally(() => {
      this.syncing = undefined;
    });
  }
}

async function writeFully(fh: FileHandle, buffers: Buffer[], position: number): Promise<void> {
  let pending = buffers;
  while (pending.length > 0) {
    const { bytesWritten } = await fh.writev(pending, position);
    if (bytesWritten === 0) throw new Error('short write: the disk accepted no bytes');
    position += bytesWritten;
    pending = dropBytes(pending, bytesWritten);
  }
}

function dropBytes(buffers: Buffer[], count: number): Buffer[] {
  const rest: Buffer[] = [];
  for (const b of buffers) {
    if (count >= b.length) {
      count -= b.length;
      continue;
    }
    rest.push(count > 0 ? b.subarray(count) : b);
    count = 0;
  }
  return rest;
}
