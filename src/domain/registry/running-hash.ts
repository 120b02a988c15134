import { createHash, type Hash } from 'node:crypto';
import { createSHA256, type IHasher } from 'hash-wasm';

/** The SHA-256 of an upload as its chunks stream through. */
export interface RunningHash {
  update(chunk: Buffer): void;
  /** The digest of what went through so far; the hash may go on afterwards. */
  hex(): string;
  /** The hash's state, to be resumed by another process; undefined when it cannot be saved. */
  save(): Buffer | undefined;
}

/** OpenSSL's SHA-256: the fastest, but its state cannot leave the process. */
export function nativeSha256(): RunningHash {
  const hash: Hash = createHash('sha256');
  return {
    update: (chunk) => hash.update(chunk),
    hex: () => hash.copy().digest('hex'),
    save: () => undefined,
  };
}

/**
 * A SHA-256 whose state can be saved with the upload and resumed on another node, so the chunks of
 * one upload may land on different nodes without the stored bytes being read again.
 */
export async function resumableSha256(state?: Buffer): Promise<RunningHash> {
  const hasher: IHasher = await createSHA256();
  if (state) hasher.load(state);
  else hasher.init();
  return {
    update: (chunk) => hasher.update(chunk),
    hex: () => {
      const saved = hasher.save();
      const hex = hasher.digest('hex');
      hasher.load(saved);
      return hex;
    },
    save: () => Buffer.from(hasher.save()),
  };
}

/** Whether `state` is one `resumableSha256` can resume (a stored state from another version may not be). */
export async function resumable(state: Buffer): Promise<RunningHash | undefined> {
  try {
    return await resumableSha256(state);
  } catch {
    return undefined;
  }
}
