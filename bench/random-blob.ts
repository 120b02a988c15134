// Incompressible test blobs streamed from one pre-generated random buffer.
//
// A blob of `size` bytes is the random pattern repeated, with its last SUFFIX_BYTES replaced by a
// per-blob unique suffix. The sha256 of the shared prefix is computed once per size and cloned
// (Hash.copy) for each blob, so every push gets a distinct digest at the cost of hashing 32 bytes.
import { createHash, randomBytes, randomFillSync, type Hash } from 'node:crypto';

const PATTERN_BYTES = 64 * 1024 * 1024;
const SLICE_BYTES = 1024 * 1024;
const SUFFIX_BYTES = 32;

let pattern: Buffer | undefined;

/** The shared random pattern (generated on first use). */
export function randomPattern(): Buffer {
  if (!pattern) {
    pattern = Buffer.allocUnsafe(PATTERN_BYTES);
    randomFillSync(pattern);
  }
  return pattern;
}

export interface Blob {
  size: number;
  digest: string;
  suffix: Buffer;
  /** Set for small in-memory blobs; otherwise the bytes come from the random pattern. */
  bytes?: Buffer;
}

const prefixHashes = new Map<number, Hash>();

function prefixHash(size: number): Hash {
  let hash = prefixHashes.get(size);
  if (!hash) {
    hash = createHash('sha256');
    for (const slice of prefixSlices(0, Math.max(0, size - SUFFIX_BYTES))) hash.update(slice);
    prefixHashes.set(size, hash);
  }
  return hash;
}

/** A new blob of `size` bytes with a digest nobody has pushed before. */
export function newBlob(size: number): Blob {
  const suffixLength = Math.min(size, SUFFIX_BYTES);
  const suffix = randomBytes(suffixLength);
  const hash = prefixHash(size).copy();
  hash.update(suffix);
  return { size, suffix, digest: `sha256:${hash.digest('hex')}` };
}

function* prefixSlices(start: number, end: number): Generator<Buffer> {
  const source = randomPattern();
  let offset = start;
  while (offset < end) {
    const at = offset % source.length;
    const length = Math.min(SLICE_BYTES, end - offset, source.length - at);
    yield source.subarray(at, at + length);
    offset += length;
  }
}

/** Bytes [start, end) of the blob as zero-copy slices. */
export function* blobSlices(blob: Blob, start = 0, end = blob.size): Generator<Buffer> {
  if (blob.bytes) {
    yield blob.bytes.subarray(start, end);
    return;
  }
  const prefixEnd = blob.size - blob.suffix.length;
  if (start < prefixEnd) yield* prefixSlices(start, Math.min(end, prefixEnd));
  if (end > prefixEnd) yield blob.suffix.subarray(Math.max(0, start - prefixEnd), end - prefixEnd);
}

/** A small blob held in memory (image configs, manifests). */
export function bytesBlob(bytes: Buffer): Blob {
  return { size: bytes.length, suffix: Buffer.alloc(0), bytes, digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}` };
}
