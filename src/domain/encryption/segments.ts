import { randomFillSync } from 'node:crypto';
import { aesGcm } from '../../runtime/aes-gcm.js';

/**
 * The at-rest format of an encrypted blob: its plaintext cut into segments of SEGMENT_BYTES (the
 * last one shorter), each stored as nonce ‖ AES-256-GCM ciphertext ‖ tag, with the segment's index
 * authenticated, so a segment cannot be moved, and a ranged read decrypts only the segments it
 * serves. Nonces are random: a segment rewritten after a failed append never reuses one.
 */
export const SEGMENT_BYTES = 64 * 1024;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
export const SEGMENT_OVERHEAD = NONCE_BYTES + TAG_BYTES;
export const SEALED_SEGMENT_BYTES = SEGMENT_BYTES + SEGMENT_OVERHEAD;

/** Bytes stored for a blob of `plainSize` bytes. */
export function storedSize(plainSize: number): number {
  const full = Math.floor(plainSize / SEGMENT_BYTES);
  const rest = plainSize % SEGMENT_BYTES;
  return full * SEALED_SEGMENT_BYTES + (rest > 0 ? rest + SEGMENT_OVERHEAD : 0);
}

/**
 * Nonces cut from a block of random bytes filled at once: one small `randomBytes` call per segment
 * was measured at ~11 µs here (a system call each), a sixth of the cost of sealing 64 KiB. A used
 * block is never refilled, so a nonce handed out stays as it was.
 */
const NONCE_BLOCK_BYTES = NONCE_BYTES * 4096;
let nonceBlock = Buffer.alloc(0);
let nonceAt = 0;

function nextNonce(): Buffer {
  if (nonceAt + NONCE_BYTES > nonceBlock.length) {
    nonceBlock = randomFillSync(Buffer.allocUnsafeSlow(NONCE_BLOCK_BYTES));
    nonceAt = 0;
  }
  const nonce = nonceBlock.subarray(nonceAt, nonceAt + NONCE_BYTES);
  nonceAt += NONCE_BYTES;
  return nonce;
}

function indexAad(index: number): Buffer {
  const aad = Buffer.alloc(9);
  aad.writeUInt8(0x53, 0); // 'S': a segment of a blob
  aad.writeBigUInt64BE(BigInt(index), 1);
  return aad;
}

/** The partial last segment of an upload in progress, bound to the upload's length. */
export function tailAad(plainLength: number): Buffer {
  const aad = Buffer.alloc(9);
  aad.writeUInt8(0x54, 0); // 'T': the tail of an upload
  aad.writeBigUInt64BE(BigInt(plainLength), 1);
  return aad;
}

export function sealWith(key: Buffer, plain: Buffer, aad: Buffer): Buffer {
  const out = Buffer.allocUnsafe(plain.length + SEGMENT_OVERHEAD);
  const nonce = nextNonce();
  nonce.copy(out, 0);
  const tag = aesGcm.seal(key, nonce, aad, plain, out.subarray(NONCE_BYTES, NONCE_BYTES + plain.length));
  tag.copy(out, NONCE_BYTES + plain.length);
  return out;
}

/** Decrypts and authenticates (into `into` when given, else a new buffer); throws when anything was changed. */
export function openWith(key: Buffer, sealed: Buffer, aad: Buffer, into?: Buffer): Buffer {
  if (sealed.length < SEGMENT_OVERHEAD) throw new SegmentError('sealed segment too short');
  const length = sealed.length - SEGMENT_OVERHEAD;
  const plain = into ? into.subarray(0, length) : Buffer.allocUnsafe(length);
  if (plain.length < length) throw new RangeError('output buffer too small for the segment');
  const ok = aesGcm.open(key, sealed.subarray(0, NONCE_BYTES), aad, sealed.subarray(NONCE_BYTES, sealed.length - TAG_BYTES), sealed.subarray(sealed.length - TAG_BYTES), plain);
  if (!ok) throw new SegmentError('stored bytes failed authentication');
  return plain;
}

export function sealSegment(key: Buffer, index: number, plain: Buffer): Buffer {
  return sealWith(key, plain, indexAad(index));
}

/**
 * `sealSegment` as its three parts (nonce, ciphertext, tag), for writers that copy anyway: no joining
 * copy. The ciphertext is written into `into` (at least as long as `plain`), which the caller may
 * reuse once the parts were consumed: a fresh 64 KiB buffer per segment costs more in garbage
 * collection than the encryption.
 */
export function sealSegmentParts(key: Buffer, index: number, plain: Buffer, into: Buffer): [Buffer, Buffer, Buffer] {
  const nonce = nextNonce();
  const body = into.subarray(0, plain.length);
  const tag = aesGcm.seal(key, nonce, indexAad(index), plain, body);
  return [nonce, body, tag];
}

export function openSegment(key: Buffer, index: number, sealed: Buffer, into?: Buffer): Buffer {
  return openWith(key, sealed, indexAad(index), into);
}

/** Stored bytes that do not decrypt: changed, truncated, or under another key. */
export class SegmentError extends Error {}
