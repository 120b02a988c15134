import type { BlobReader, BlobStore, ByteRange } from '../../store/blob/blob-store.js';
import { openSegment, SEALED_SEGMENT_BYTES, SEGMENT_BYTES, SegmentError, storedSize } from './segments.js';

const NOTHING = Buffer.alloc(0);

/** Segments read from the store at once: fewer, larger reads. */
const SEGMENTS_PER_READ = 8;

/**
 * Reads the plaintext of an encrypted blob (or a range of it), decrypting only the segments the
 * range touches. Undefined when the store does not have the blob.
 *
 * The first batch of segments is read and decrypted before the reader is returned, so stored bytes
 * that fail authentication there (damaged at rest, or sealed under another data key) fail the open
 * itself, while the caller has sent nothing and can still answer with an error. A segment failing
 * later fails a `read`, mid-stream, where the only honest answer is to abort the response.
 */
export async function openDecryptingReader(store: BlobStore, digest: string, key: Buffer, plainSize: number, range?: ByteRange): Promise<BlobReader | undefined> {
  const start = range?.start ?? 0;
  const end = range ? range.end + 1 : plainSize; // exclusive
  const firstSegment = Math.floor(start / SEGMENT_BYTES);
  const lastSegment = end > start ? Math.floor((end - 1) / SEGMENT_BYTES) : firstSegment - 1;
  const storedStart = firstSegment * SEALED_SEGMENT_BYTES;
  const storedEnd = Math.min(storedSize(plainSize), (lastSegment + 1) * SEALED_SEGMENT_BYTES);
  const inner = storedEnd > storedStart ? await store.openReader(digest, { start: storedStart, end: storedEnd - 1 }) : await store.openReader(digest, { start: 0, end: 0 });
  if (!inner) return undefined;

  let nextSegment = firstSegment;
  let position = start; // next plaintext offset to hand out
  let segments: Buffer[] = []; // the batch of decrypted segments
  let current = 0; // which of them `plain` is
  let plain: Buffer = Buffer.alloc(0); // the decrypted segment being handed out, starting at plainAt
  let plainAt = start;
  // Sized for the batch, so a small blob (a config) does not take the buffers of a large one.
  const batch = Math.max(1, Math.min(SEGMENTS_PER_READ, lastSegment - firstSegment + 1));
  const batches = Math.ceil((lastSegment - firstSegment + 1) / batch);
  // Two sealed buffers when there is more than one batch: the next batch is read while this one is
  // decrypted and sent, so the store's latency hides behind the work on the current one.
  const sealedBufs = Array.from({ length: batches > 1 ? 2 : 1 }, () => Buffer.allocUnsafe(SEALED_SEGMENT_BYTES * batch));
  const plainBuf = Buffer.allocUnsafe(SEGMENT_BYTES * batch);
  let reads = 0;
  let ahead: StoredBatch | undefined;

  interface StoredBatch {
    segment: number;
    count: number;
    sealed: Buffer;
    /** Settles with the read; a failure is kept here until the batch is needed. */
    done: Promise<unknown>;
  }

  /** Starts reading the batch at `segment` from the store into the next sealed buffer. */
  function readBatch(segment: number): StoredBatch {
    const count = Math.min(batch, lastSegment - segment + 1);
    const segStart = segment * SEALED_SEGMENT_BYTES;
    const want = Math.min(storedSize(plainSize), (segment + count) * SEALED_SEGMENT_BYTES) - segStart;
    const buf = sealedBufs[reads++ % sealedBufs.length]!;
    const read = async () => {
      let got = 0;
      while (got < want) {
        const n = await inner!.read(buf.subarray(got, want));
        if (n === 0) throw new SegmentError(`stored blob ${digest} is shorter than its size`);
        got += n;
      }
    };
    return { segment, count, sealed: buf.subarray(0, want), done: read().then(() => undefined, (e: unknown) => e ?? new Error('read failed')) };
  }

  /**
   * Reads (or takes the read-ahead of) the next batch and decrypts it: into `plainBuf`, to be handed
   * out segment by segment, or with `into` straight into the caller's buffer, which then holds the
   * whole batch (see `directBytes`) and nothing of it is kept.
   */
  async function decryptMore(into?: Buffer): Promise<boolean> {
    if (nextSegment > lastSegment) return false;
    const stored = ahead?.segment === nextSegment ? ahead : readBatch(nextSegment);
    ahead = undefined;
    const failure = await stored.done;
    if (failure) throw failure;
    const following = nextSegment + stored.count;
    if (following <= lastSegment) ahead = readBatch(following);
    const segmentPlainStart = nextSegment * SEGMENT_BYTES;
    const target = into ?? plainBuf;
    const opened: Buffer[] = [];
    for (let i = 0; i < stored.count; i++) {
      const sealed = stored.sealed.subarray(i * SEALED_SEGMENT_BYTES, Math.min(stored.sealed.length, (i + 1) * SEALED_SEGMENT_BYTES));
      opened.push(openStoredSegment(key, nextSegment + i, sealed, target.subarray(i * SEGMENT_BYTES, (i + 1) * SEGMENT_BYTES)));
    }
    nextSegment = following;
    current = 0;
    // Decrypted into the caller's buffer: nothing is left to hand out, and the next batch starts after it.
    segments = into ? [] : opened;
    plain = into ? NOTHING : opened[0]!;
    plainAt = into ? Math.min(plainSize, following * SEGMENT_BYTES) : segmentPlainStart;
    return true;
  }

  /**
   * How many bytes the next batch decrypts straight into a caller's buffer with `room` bytes left:
   * all of the batch when the reader stands at its start and it fits, wholly inside the range; else
   * 0, and the batch goes through `plainBuf`. A pull's send buffers hold exactly one batch, so all
   * but a ranged read's ends skip that copy.
   */
  function directBytes(room: number): number {
    if (nextSegment > lastSegment || position !== nextSegment * SEGMENT_BYTES) return 0;
    const count = Math.min(batch, lastSegment - nextSegment + 1);
    const batchEnd = Math.min(plainSize, (nextSegment + count) * SEGMENT_BYTES);
    return batchEnd <= end && batchEnd - position <= room ? batchEnd - position : 0;
  }

  /** Lets a read still in flight finish before the store's reader is closed under it. */
  async function closeInner(): Promise<void> {
    await ahead?.done;
    ahead = undefined;
    await inner!.close();
  }

  function openStoredSegment(key: Buffer, index: number, sealed: Buffer, into: Buffer): Buffer {
    try {
      return openSegment(key, index, sealed, into);
    } catch (e) {
      if (e instanceof SegmentError) throw new SegmentError(`stored blob ${digest}, segment ${index}: ${e.message}`);
      throw e;
    }
  }

  /** Moves on to the next decrypted segment, or decrypts the next batch. */
  async function advance(): Promise<boolean> {
    if (current + 1 < segments.length) {
      plainAt += plain.length;
      plain = segments[++current]!;
      return true;
    }
    return decryptMore();
  }

  try {
    await decryptMore();
  } catch (e) {
    await closeInner().catch(() => undefined);
    throw e;
  }

  return {
    async read(into: Buffer): Promise<number> {
      let written = 0;
      while (written < into.length && position < end) {
        if (position >= plainAt + plain.length) {
          const direct = current + 1 < segments.length ? 0 : directBytes(into.length - written);
          if (direct > 0) {
            await decryptMore(into.subarray(written, written + direct));
            written += direct;
            position += direct;
            continue;
          }
          if (!(await advance())) break;
        }
        const from = position - plainAt;
        const n = Math.min(into.length - written, plain.length - from, end - position);
        plain.copy(into, written, from, from + n);
        written += n;
        position += n;
      }
      return written;
    },
    close: closeInner,
  };
}
