/** A byte range of one staged object. */
export interface Piece {
  key: string;
  start: number;
  length: number;
  /** The whole staged object's size. */
  objectSize: number;
}

/**
 * One part of the multipart upload that composes a blob: copied inside the object store from one
 * staged object (UploadPartCopy), or read from several and sent again (UploadPart).
 */
export type PlannedPart = { kind: 'copy'; piece: Piece } | { kind: 'stream'; pieces: Piece[]; length: number };

/** S3's multipart rules: every part but the last at least 5 MiB, at most 5 GiB, at most 10,000 parts. */
export const MIN_PART_BYTES = 5 * 1024 * 1024;
export const MAX_PART_BYTES = 5 * 1024 * 1024 * 1024;
export const MAX_PARTS = 10_000;

/**
 * Plans the parts that compose `pieces` (in order, `size` bytes in all) into one object. Pieces of
 * at least 5 MiB are copied inside the store; smaller ones are gathered into parts of `streamBytes`
 * that pass through berth. When copies would need more than 10,000 parts, everything is streamed in
 * parts large enough to fit.
 */
export function planParts(pieces: Piece[], size: number, streamBytes: number): PlannedPart[] {
  const fitting = Math.max(streamBytes, Math.ceil(size / MAX_PARTS));
  const plan = partsFor(pieces, fitting, MIN_PART_BYTES);
  return plan.length <= MAX_PARTS ? plan : partsFor(pieces, fitting, Number.POSITIVE_INFINITY);
}

function partsFor(pieces: Piece[], streamBytes: number, copyFrom: number): PlannedPart[] {
  const parts: PlannedPart[] = [];
  let pending: Piece[] = [];
  let pendingLength = 0;
  const flush = () => {
    if (pendingLength > 0) parts.push({ kind: 'stream', pieces: pending, length: pendingLength });
    pending = [];
    pendingLength = 0;
  };
  for (const whole of pieces) {
    let { start, length } = whole;
    if (pendingLength > 0) {
      // Top up the part being gathered: it must reach its full size before anything follows it.
      const take = Math.min(length, streamBytes - pendingLength);
      pending.push({ ...whole, start, length: take });
      pendingLength += take;
      start += take;
      length -= take;
      if (pendingLength === streamBytes) flush();
    }
    if (length === 0) continue;
    if (length >= copyFrom) {
      const count = Math.ceil(length / MAX_PART_BYTES);
      const each = Math.ceil(length / count);
      for (let at = 0; at < length; at += each) parts.push({ kind: 'copy', piece: { ...whole, start: start + at, length: Math.min(each, length - at) } });
    } else {
      for (let at = 0; at < length; ) {
        const take = Math.min(length - at, streamBytes - pendingLength);
        pending.push({ ...whole, start: start + at, length: take });
        pendingLength += take;
        at += take;
        if (pendingLength === streamBytes) flush();
      }
    }
  }
  flush();
  return parts;
}
