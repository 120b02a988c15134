import type { BlobStore } from '../../store/blob/blob-store.js';
import type { MasterKey } from '../kms/master-key.js';
import type { UploadBytes } from './upload-bytes.js';
import { openSegment, openWith, SEALED_SEGMENT_BYTES, sealSegment, sealSegmentParts, sealWith, SEGMENT_BYTES, SegmentError, storedSize, tailAad } from './segments.js';

/**
 * Uploads in progress, encrypted as they stream. The upload's key is derived from the master key
 * and the upload id, so any node can continue an upload. Whole segments are appended to the
 * upload in the store; a partial last segment (a chunk that ended mid-segment) is kept sealed in
 * one of two tail slots, bound to the upload's length: a new tail goes to the slot that does not
 * hold the current one, so a crash while writing it loses nothing that was acknowledged.
 */
export class UploadCipher implements UploadBytes {
  /** Uploads whose final chunk this process sealed to the end (see `append`'s `last`), by length. */
  private readonly sealedToEnd = new Map<string, number>();

  constructor(
    private readonly store: BlobStore,
    private readonly master: MasterKey,
  ) {}

  /** The upload's data key; once committed, the blob's. */
  keyOf(id: string): Buffer {
    return this.master.derive('upload', id);
  }

  /**
   * Appends plaintext at the upload's counted length `offset`; returns the plaintext bytes appended.
   * `last`: the upload is finished right after (its final chunk), so a partial last segment is
   * sealed straight into the upload as its last segment instead of into a tail slot.
   */
  async append(id: string, offset: number, data: AsyncIterable<Buffer>, opts: { last?: boolean } = {}): Promise<number> {
    const key = this.keyOf(id);
    const full = Math.floor(offset / SEGMENT_BYTES);
    const current = offset % SEGMENT_BYTES === 0 ? undefined : await this.readTail(id, key, offset);
    const segment = Buffer.allocUnsafe(SEGMENT_BYTES);
    // Reused for every sealed segment: the store consumes each part before it asks for the next.
    const sealedBody = Buffer.allocUnsafe(SEGMENT_BYTES);
    let filled = 0;
    if (current) filled = current.plain.copy(segment, 0);
    let index = full;
    let received = 0;
    async function* sealed(): AsyncGenerator<Buffer> {
      for await (const chunk of data) {
        received += chunk.length;
        let at = 0;
        while (at < chunk.length) {
          if (filled === 0 && chunk.length - at >= SEGMENT_BYTES) {
            // A whole segment within the chunk is sealed where it is, without a copy.
            yield* sealSegmentParts(key, index++, chunk.subarray(at, at + SEGMENT_BYTES), sealedBody);
            at += SEGMENT_BYTES;
            continue;
          }
          const n = chunk.copy(segment, filled, at);
          filled += n;
          at += n;
          if (filled === SEGMENT_BYTES) {
            yield* sealSegmentParts(key, index++, segment, sealedBody);
            filled = 0;
          }
        }
      }
      if (opts.last && filled > 0 && received > 0) {
        yield sealSegment(key, index++, segment.subarray(0, filled));
        filled = 0;
      }
    }
    // The store is written only once there is something to write (a small chunk may all go to a tail).
    const segments = sealed();
    const first = await segments.next();
    if (!first.done) {
      await this.store.appendUpload(id, full * SEALED_SEGMENT_BYTES, (async function* () {
        yield first.value;
        yield* segments;
      })());
    }
    if (received === 0) return 0;
    const length = offset + received;
    if (opts.last) this.sealedToEnd.set(id, length);
    if (filled > 0) {
      const slot = current?.slot !== undefined ? 1 - current.slot : 0;
      // Without a current tail slot, the other slot may hold one a failed append left for this
      // very length: it goes first, so only the new tail can ever authenticate for it.
      if (current?.slot === undefined) await this.store.cancelUpload(tailId(id, 1));
      const tail = sealWith(key, segment.subarray(0, filled), tailAad(length));
      await this.store.appendUpload(tailId(id, slot), 0, once(tail));
    }
    return received;
  }

  /** The upload's first `size` plaintext bytes. */
  async *read(id: string, size: number): AsyncIterable<Buffer> {
    const key = this.keyOf(id);
    const full = Math.floor(size / SEGMENT_BYTES);
    let index = 0;
    if (full > 0) {
      for await (const sealed of exactly(this.store.readUpload(id, full * SEALED_SEGMENT_BYTES), SEALED_SEGMENT_BYTES)) {
        yield openSegment(key, index++, sealed);
      }
    }
    if (index !== full) throw new SegmentError(`upload ${id} is shorter than its counted length`);
    if (size % SEGMENT_BYTES !== 0) yield (await this.readTail(id, key, size)).plain;
  }

  /** Seals the tail as the last segment of the upload; returns the bytes the committed blob takes. */
  async finish(id: string, size: number): Promise<number> {
    const sealedTo = this.sealedToEnd.get(id);
    this.sealedToEnd.delete(id);
    if (size % SEGMENT_BYTES !== 0 && sealedTo !== size) {
      const key = this.keyOf(id);
      const full = Math.floor(size / SEGMENT_BYTES);
      const { plain } = await this.readTail(id, key, size);
      await this.store.appendUpload(id, full * SEALED_SEGMENT_BYTES, once(sealSegment(key, full, plain)));
    }
    return storedSize(size);
  }

  /** Drops the upload's tail slots (after a commit or with the upload). */
  async dropTails(id: string): Promise<void> {
    await this.store.cancelUpload(tailId(id, 0));
    await this.store.cancelUpload(tailId(id, 1));
  }

  async cancel(id: string): Promise<void> {
    this.sealedToEnd.delete(id);
    await this.store.cancelUpload(id);
    await this.dropTails(id);
  }

  /**
   * The partial last segment of an upload of `length` bytes: from the tail slot that authenticates
   * for that length, or, when a final chunk was sealed to the end but the upload not committed
   * (a commit that failed, then a restart), from the end of the upload itself.
   */
  private async readTail(id: string, key: Buffer, length: number): Promise<{ slot?: number; plain: Buffer }> {
    const want = length % SEGMENT_BYTES;
    const sealedLength = want + SEALED_SEGMENT_BYTES - SEGMENT_BYTES;
    for (const slot of [0, 1]) {
      try {
        // A store may refuse to read a slot that was never written (S3) rather than read it short.
        const sealed = await readAll(this.store.readUpload(tailId(id, slot), sealedLength));
        const plain = openWith(key, sealed, tailAad(length));
        if (plain.length === want) return { slot, plain };
      } catch {
        // not this slot
      }
    }
    const full = Math.floor(length / SEGMENT_BYTES);
    try {
      const end = await lastBytes(this.store.readUpload(id, full * SEALED_SEGMENT_BYTES + sealedLength), sealedLength);
      const plain = openSegment(key, full, end);
      if (plain.length === want) return { plain };
    } catch {
      // not there either
    }
    throw new SegmentError(`upload ${id} has lost the last ${want} bytes it acknowledged`);
  }
}

/** The last `n` bytes of a stream. */
async function lastBytes(source: AsyncIterable<Buffer>, n: number): Promise<Buffer> {
  let kept = Buffer.alloc(0);
  try {
    for await (const part of source) {
      kept = Buffer.concat([kept, part]);
      if (kept.length > n) kept = kept.subarray(kept.length - n);
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  return kept;
}

/** The store's upload id of a tail slot. */
export function tailId(id: string, slot: number): string {
  return `${id}-t${slot}`;
}

/** Whether a store upload id is a tail slot rather than an upload of its own. */
export function isTailId(id: string): boolean {
  return /-t[01]$/.test(id);
}

async function* once(buf: Buffer): AsyncIterable<Buffer> {
  yield buf;
}

async function readAll(source: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  try {
    for await (const part of source) parts.push(part);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  return Buffer.concat(parts);
}

/** Re-cuts a stream into pieces of exactly `size` bytes (the last may be shorter). */
export async function* exactly(source: AsyncIterable<Buffer>, size: number): AsyncIterable<Buffer> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  for await (const chunk of source) {
    let at = 0;
    while (at < chunk.length) {
      const take = Math.min(size - pendingBytes, chunk.length - at);
      pending.push(chunk.subarray(at, at + take));
      pendingBytes += take;
      at += take;
      if (pendingBytes === size) {
        yield pending.length === 1 ? pending[0]! : Buffer.concat(pending);
        pending = [];
        pendingBytes = 0;
      }
    }
  }
  if (pendingBytes > 0) yield Buffer.concat(pending);
}
