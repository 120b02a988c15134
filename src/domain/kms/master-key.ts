import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { mkdir, open, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';

const KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
/** The kv setting that remembers which master key the metadata was written with. */
export const MASTER_KEY_CHECK_SETTING = 'kms:master-key-check';

/**
 * The root of trust of encryption at rest: 32 random bytes in a file (hex), shared by the nodes of
 * one deployment. It wraps KMS key material and the berth-managed (AES256) data keys, and derives
 * the keys of uploads in progress.
 */
export class MasterKey {
  private constructor(private readonly key: Buffer) {}

  static fromBytes(key: Buffer): MasterKey {
    if (key.length !== KEY_BYTES) throw new Error(`a master key has ${KEY_BYTES} bytes`);
    return new MasterKey(Buffer.from(key));
  }

  /** Reads the key file, creating it (mode 0600) with a new random key when it does not exist. */
  static async load(path: string): Promise<MasterKey> {
    try {
      return MasterKey.fromBytes(parseKeyFile(await readFile(path, 'utf8'), path));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    await mkdir(dirname(path), { recursive: true });
    const key = randomBytes(KEY_BYTES);
    try {
      const fh = await open(path, 'wx', 0o600);
      try {
        await fh.writeFile(key.toString('hex') + '\n');
        await fh.sync();
      } finally {
        await fh.close();
      }
      return MasterKey.fromBytes(key);
    } catch (e) {
      // Another process created it first: use theirs.
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return MasterKey.fromBytes(parseKeyFile(await readFile(path, 'utf8'), path));
      throw e;
    }
  }

  /** A value that identifies the key without revealing it, stored with the metadata. */
  checkValue(): string {
    return createHmac('sha256', this.key).update('berth master key check').digest('hex');
  }

  /** AES-256-GCM with a random nonce; `context` binds the result to where it is stored. */
  wrap(plaintext: Buffer, context: string): Buffer {
    return seal(this.key, plaintext, context);
  }

  /** Undoes `wrap`; throws when the bytes or the context were changed, or another key wrapped them. */
  unwrap(wrapped: Buffer, context: string): Buffer {
    return unseal(this.key, wrapped, context);
  }

  /** A key derived for one purpose and subject (e.g. one upload), the same on every node. */
  derive(purpose: string, subject: string): Buffer {
    return Buffer.from(hkdfSync('sha256', this.key, Buffer.from(subject), Buffer.from(`berth ${purpose}`), KEY_BYTES));
  }
}

function parseKeyFile(text: string, path: string): Buffer {
  const hex = text.trim();
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) throw new Error(`${path} does not hold a master key (64 hex digits)`);
  return Buffer.from(hex, 'hex');
}

/** AES-256-GCM: nonce ‖ ciphertext ‖ tag, authenticated with `aad`. */
export function seal(key: Buffer, plaintext: Buffer, aad: string | Buffer): Buffer {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(typeof aad === 'string' ? Buffer.from(aad) : aad);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([nonce, body, cipher.getAuthTag()]);
}

export function unseal(key: Buffer, sealed: Buffer, aad: string | Buffer): Buffer {
  if (sealed.length < NONCE_BYTES + TAG_BYTES) throw new Error('sealed data too short');
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, NONCE_BYTES));
  decipher.setAAD(typeof aad === 'string' ? Buffer.from(aad) : aad);
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
  return Buffer.concat([decipher.update(sealed.subarray(NONCE_BYTES, sealed.length - TAG_BYTES)), decipher.final()]);
}

/** Refuses to run with another master key than the one the metadata was written with. */
export async function assertMasterKeyMatches(
  settings: { getOrCreateSetting(key: string, create: () => string): Promise<string> },
  master: MasterKey,
  path: string,
): Promise<void> {
  const stored = await settings.getOrCreateSetting(MASTER_KEY_CHECK_SETTING, () => master.checkValue());
  if (stored !== master.checkValue()) {
    throw new Error(
      `the master key in ${path} is not the one this deployment's metadata was written with; ` +
        'start berth with the original key file (BERTH_MASTER_KEY_FILE): with another key nothing stored could be decrypted',
    );
  }
}
