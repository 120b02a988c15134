import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_PART_BYTES, MAX_PARTS, MIN_PART_BYTES, planParts, type Piece, type PlannedPart } from '../../src/store/blob/compose-plan.js';

const MiB = 1024 * 1024;
const STREAM = 8 * MiB;

function staged(...sizes: number[]): Piece[] {
  return sizes.map((size, i) => ({ key: `k${i}`, start: 0, length: size, objectSize: size }));
}

const partLength = (p: PlannedPart) => (p.kind === 'copy' ? p.piece.length : p.length);

/** S3's rules hold, and the parts cover the pieces' bytes exactly, in order. */
function assertValid(pieces: Piece[], parts: PlannedPart[]): void {
  assert.ok(parts.length <= MAX_PARTS, `${parts.length} parts`);
  parts.forEach((p, i) => {
    assert.ok(partLength(p) <= MAX_PART_BYTES, `part ${i + 1} is at most 5 GiB`);
    if (i < parts.length - 1) assert.ok(partLength(p) >= MIN_PART_BYTES, `part ${i + 1} of ${parts.length} is at least 5 MiB (${partLength(p)})`);
    if (p.kind === 'stream') assert.equal(p.pieces.reduce((n, x) => n + x.length, 0), p.length);
  });
  const ranges = parts.flatMap((p) => (p.kind === 'copy' ? [p.piece] : p.pieces));
  const expected = pieces.map((p) => ({ key: p.key, from: p.start, to: p.start + p.length }));
  const merged: { key: string; from: number; to: number }[] = [];
  for (const r of ranges) {
    assert.ok(r.length > 0, 'no empty ranges');
    const last = merged.at(-1);
    if (last && last.key === r.key && last.to === r.start) last.to += r.length;
    else merged.push({ key: r.key, from: r.start, to: r.start + r.length });
  }
  assert.deepEqual(merged, expected);
}

describe('planParts: composing staged objects under S3 multipart rules', () => {
  it('copies staged objects of 5 MiB and more inside the store', () => {
    const pieces = staged(8 * MiB, 8 * MiB, 3 * MiB);
    const parts = planParts(pieces, 19 * MiB, STREAM);
    assert.deepEqual(parts.map((p) => p.kind), ['copy', 'copy', 'stream']);
    assertValid(pieces, parts);
  });

  it('gathers small staged objects into parts of full size, topping up from the next object', () => {
    const pieces = staged(1 * MiB, 2 * MiB, 20 * MiB, 7, 1 * MiB, 9 * MiB);
    const parts = planParts(pieces, pieces.reduce((n, p) => n + p.length, 0), STREAM);
    assertValid(pieces, parts);
    assert.equal(parts[0]!.kind, 'stream');
    assert.equal(partLength(parts[0]!), STREAM, 'the first 3 MiB are topped up with 5 MiB of the 20 MiB object');
    assert.equal(parts[1]!.kind, 'copy', 'the rest of the large object is copied');
    assert.ok(parts.some((p) => p.kind === 'copy'));
  });

  it('the remainder of a large object below 5 MiB is gathered with what follows', () => {
    const pieces = staged(4 * MiB, 9 * MiB, 1 * MiB);
    const parts = planParts(pieces, 14 * MiB, STREAM);
    assertValid(pieces, parts);
  });

  it('one small object is one part; one large object is split only beyond 5 GiB', () => {
    assert.equal(planParts(staged(10), 10, STREAM).length, 1);
    const huge = staged(MAX_PART_BYTES * 2 + 1);
    const parts = planParts(huge, MAX_PART_BYTES * 2 + 1, STREAM);
    assert.equal(parts.length, 3);
    assertValid(huge, parts);
  });

  it('never plans more than 10,000 parts: then streams everything in larger parts', () => {
    // 12,000 staged objects of exactly 5 MiB: copying each would take 12,000 parts.
    const pieces = staged(...Array.from({ length: 12_000 }, () => MIN_PART_BYTES));
    const size = 12_000 * MIN_PART_BYTES;
    const parts = planParts(pieces, size, STREAM);
    assertValid(pieces, parts);
    assert.ok(parts.every((p) => p.kind === 'stream'));
  });

  it('many tiny staged objects of a blob at the ECR layer limit still fit in 10,000 parts', () => {
    const size = 52_000 * MiB;
    const pieces = staged(...Array.from({ length: 52_000 }, () => MiB));
    const parts = planParts(pieces, size, STREAM);
    assertValid(pieces, parts);
  });
});
