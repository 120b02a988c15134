import { createHash, type Hash } from 'node:crypto';
import { RegistryError } from './errors.js';

export const DIGEST_ALGORITHMS = { sha256: 64, sha512: 128 } as const;
export type DigestAlgorithm = keyof typeof DIGEST_ALGORITHMS;

const DIGEST_SHAPE = /^([a-z0-9]+(?:[+._-][a-z0-9]+)*):([a-zA-Z0-9=_-]+)$/;

export interface ParsedDigest {
  algorithm: DigestAlgorithm;
  hex: string;
  digest: string;
}

/** Whether a string has the grammar of a digest (any algorithm), as opposed to a tag. */
export function looksLikeDigest(s: string): boolean {
  return s.includes(':');
}

/** Parses and validates a digest; unknown algorithms are refused as UNSUPPORTED-ish DIGEST_INVALID. */
export function parseDigest(s: string): ParsedDigest {
  const m = DIGEST_SHAPE.exec(s);
  if (!m) throw new RegistryError('InvalidDigest', `invalid digest: ${truncate(s)}`);
  const algorithm = m[1] as DigestAlgorithm;
  const hex = m[2]!;
  const length = DIGEST_ALGORITHMS[algorithm];
  if (length === undefined) throw new RegistryError('InvalidDigest', `unsupported digest algorithm: ${truncate(m[1]!)}`);
  if (hex.length !== length || !/^[a-f0-9]+$/.test(hex)) {
    throw new RegistryError('InvalidDigest', `invalid ${algorithm} digest: ${truncate(s)}`);
  }
  return { algorithm, hex, digest: s };
}

export function isValidDigest(s: string): boolean {
  try {
    parseDigest(s);
    return true;
  } catch {
    return false;
  }
}

export function newHasher(algorithm: DigestAlgorithm): Hash {
  return createHash(algorithm);
}

export function sha256Digest(bytes: Buffer | string): string {
  return 'sha256:' + createHash('sha256').update(bytes).digest('hex');
}

export function digestOf(algorithm: DigestAlgorithm, bytes: Buffer): string {
  return `${algorithm}:` + createHash(algorithm).update(bytes).digest('hex');
}

function truncate(s: string): string {
  return s.length > 100 ? s.slice(0, 100) + '…' : s;
}
