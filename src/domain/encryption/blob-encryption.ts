import { createHash, randomUUID, type Hash } from 'node:crypto';
import type { BlobReader, BlobStore, ByteRange } from '../../store/blob/blob-store.js';
import type { KmsKeyRow } from '../../store/meta/kms-store.js';
import type { MetadataStore } from '../../store/meta/metadata-store.js';
import { KmsError } from '../kms/errors.js';
import { assertUsable, keyArn, Kms, type KmsScope } from '../kms/kms.js';
import type { MasterKey } from '../kms/master-key.js';
import { whileClaimed } from '../registry/claims.js';
import { RegistryError } from '../registry/errors.js';
import type { Repository } from '../registry/model.js';
import type { RepositorySettings } from '../registry/settings.js';
import { openDecryptingReader } from './decrypting-reader.js';
import { SegmentError, storedSize } from './segments.js';
import { StoreEncryptedUploads, type UploadBytes } from './upload-bytes.js';
import { UploadCipher } from './upload-cipher.js';

/** The wrapping key of repositories with `AES256`: berth's own, under the master key. */
export const BERTH_MANAGED_KEY = 'berth';
const KEY_ARN = /^arn:[^:]+:kms:([^:]+):(\d{12}):key\/(.+)$/;

type EncryptionConfiguration = RepositorySettings['encryptionConfiguration'];

/** The key that protects a repository's blobs: berth's (AES256) or a KMS key. */
type RepositoryKey = { ref: typeof BERTH_MANAGED_KEY } | { ref: string; kms: KmsKeyRow };

/**
 * Envelope encryption of blobs. Each blob has its own data key (its upload's), stored wrapped by
 * every key that protects a repository holding it, so a layer shared by repositories with
 * different keys is stored once. A blob without any wrapped data key predates encryption and is
 * read as it was written.
 */
export class BlobEncryption {
  /** How uploads in progress are stored: sealed by berth, or as plaintext when the store encrypts. */
  readonly uploads: UploadBytes;
  private readonly cipher: UploadCipher;
  /** The commit of each digest in progress in this process, which the next one waits for. */
  private readonly committing = new Map<string, Promise<unknown>>();

  constructor(
    private readonly meta: MetadataStore,
    private readonly store: BlobStore,
    private readonly master: MasterKey,
    private readonly kms: Kms,
    /** The region of repositories whose settings name no key ARN. */
    private readonly region: string,
    /**
     * The blob store encrypts every object at rest itself (S3 server-side encryption), so that its
     * pre-signed URLs can serve blobs: new blobs are stored as their plaintext, without data keys.
     * Repositories' keys still decide who may read and whether anyone can (a disabled KMS key).
     */
    readonly storeEncrypts = false,
  ) {
    this.cipher = new UploadCipher(store, master);
    this.uploads = storeEncrypts ? new StoreEncryptedUploads(store) : this.cipher;
  }

  /**
   * The encryption configuration a new repository keeps: for KMS, the ARN of the key it names (key
   * id, key ARN, alias or alias ARN), or of the account's `alias/aws/ecr` key, created on first use.
   */
  async configurationFor(registryId: string, region: string, cfg: EncryptionConfiguration): Promise<EncryptionConfiguration> {
    if (cfg.encryptionType === 'AES256') return { encryptionType: 'AES256' };
    const scope: KmsScope = { accountId: registryId, region };
    try {
      const key = cfg.kmsKey === undefined ? await this.kms.ecrManagedKey(scope) : await this.kms.resolve(scope, cfg.kmsKey);
      assertUsable(key);
      return { encryptionType: cfg.encryptionType, kmsKey: keyArn(key) };
    } catch (e) {
      throw kmsFailure(e, `the KMS key ${cfg.kmsKey ?? 'alias/aws/ecr'} cannot be used`);
    }
  }

  /**
   * Refuses reads of a KMS repository whose key cannot be used now (disabled, pending deletion,
   * deleted). A repository whose key was never resolved (written by an earlier version) has
   * nothing encrypted under it and stays readable.
   */
  async assertReadable(repo: Repository): Promise<void> {
    const cfg = repo.settings.encryptionConfiguration;
    if (cfg.encryptionType === 'AES256' || !cfg.kmsKey || !KEY_ARN.test(cfg.kmsKey)) return;
    await this.repositoryKey(this.kms, repo);
  }

  /** The ARN of the KMS key that protects the repository, if any: what pulling needs kms:Decrypt on. */
  kmsKeyArn(repo: Repository): string | undefined {
    return repositoryKmsKeyArn(repo);
  }

  /**
   * Makes a finished upload the blob `digest` of the repository: its bytes become the blob's (or,
   * when the store has the blob already, the repository's key gets a wrapping of its data key),
   * and the repository gets its link, all in one transaction.
   */
  async commit(repo: Repository, uploadId: string, digest: string, plainSize: number): Promise<void> {
    // Commits of one digest take turns, in this process and then across nodes, so two uploads of
    // the same bytes cannot both replace the stored copy and leave it with the other one's data key.
    const previous = this.committing.get(digest) ?? Promise.resolve();
    const mine = previous.then(() => whileClaimed(this.meta, `commit:${digest}`, () => this.commitInTurn(repo, uploadId, digest, plainSize)));
    const settled = mine.catch(() => undefined);
    this.committing.set(digest, settled);
    try {
      await mine;
    } finally {
      if (this.committing.get(digest) === settled) this.committing.delete(digest);
    }
  }

  private async commitInTurn(repo: Repository, uploadId: string, digest: string, plainSize: number): Promise<void> {
    const stored = await this.uploads.finish(uploadId, plainSize);
    const key = await this.repositoryKey(this.kms, repo);
    const wrapped = await this.meta.kms.blobDataKeys(digest);
    const existing = await this.store.stat(digest);
    let replace = false;
    let wrapping: Buffer | undefined;
    if (wrapped.size === 0 && existing === plainSize) {
      // Stored as plaintext (before encryption, or under the store's own encryption), or empty: served as it is.
    } else if (wrapped.size > 0 && existing === storedSize(plainSize)) {
      if (!wrapped.has(key.ref)) wrapping = await this.wrap(this.kms, key, digest, await this.unwrapAny(this.kms, digest, wrapped, key.ref));
    } else {
      // New bytes, or bytes a crash left without their key: this upload's bytes (and key) replace them.
      replace = true;
      wrapping = plainSize > 0 && !this.storeEncrypts ? await this.wrap(this.kms, key, digest, this.cipher.keyOf(uploadId)) : undefined;
      if (existing !== undefined) await this.store.delete(digest);
      await this.store.commitUpload(uploadId, digest, stored);
    }
    await this.meta.transaction(async (tx) => {
      await tx.lock(`blob:${digest}`); // data keys are per digest, shared by every repository
      if (replace) await tx.kms.deleteBlobDataKeys(digest);
      if (wrapping) await tx.kms.addBlobDataKey(digest, key.ref, wrapping);
      await tx.commitBlob(repo.id, digest, plainSize);
      await tx.deleteUpload(uploadId);
    }, repo.id);
    if (replace) await this.uploads.dropTails(uploadId);
    else await this.uploads.cancel(uploadId);
  }

  /** Lets the repository read a blob it now links (a cross-repository mount): re-wraps the data key for its key. */
  async grant(repo: Repository, digest: string): Promise<void> {
    const wrapped = await this.meta.kms.blobDataKeys(digest);
    if (wrapped.size === 0) return;
    const key = await this.repositoryKey(this.kms, repo);
    if (wrapped.has(key.ref)) return;
    const dataKey = await this.unwrapAny(this.kms, digest, wrapped, key.ref);
    await this.meta.kms.addBlobDataKey(digest, key.ref, await this.wrap(this.kms, key, digest, dataKey));
  }

  /**
   * Opens the blob's plaintext (or a range of it) for the repository; undefined if the store lacks it.
   * A blob an earlier version stored in plaintext may be encrypted in place meanwhile (see
   * `encryptStoredPlaintext`: its data key is recorded before its bytes are replaced), so what was
   * opened is told by its size: the plaintext's, or the ciphertext's.
   */
  async open(repo: Repository, digest: string, plainSize: number, range?: ByteRange): Promise<BlobReader | undefined> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const wrapped = plainSize === 0 ? new Map<string, Buffer>() : await this.meta.kms.blobDataKeys(digest);
      if (wrapped.size === 0) {
        await this.assertReadable(repo);
        const reader = await this.openPlaintext(digest, plainSize, range);
        if (reader !== 'encrypted') return reader;
        continue; // encrypted since its data keys were read: they are recorded by now
      }
      const key = await this.repositoryKey(this.kms, repo);
      const dataKey = await this.unwrapAny(this.kms, digest, wrapped, key.ref);
      try {
        return await openDecryptingReader(this.store, digest, dataKey, plainSize, range);
      } catch (e) {
        // Its data key is recorded but its bytes not replaced yet (or that was cut short): plaintext still.
        if (!(e instanceof SegmentError) || (await this.store.stat(digest)) !== plainSize) throw e;
        const reader = await this.openPlaintext(digest, plainSize, range);
        if (reader !== 'encrypted') return reader;
      }
    }
    throw new Error(`stored blob ${digest} kept changing between plaintext and ciphertext while it was opened`);
  }

  /** The stored plaintext; 'encrypted' when what was opened turns out to be ciphertext. */
  private async openPlaintext(digest: string, plainSize: number, range?: ByteRange): Promise<BlobReader | undefined | 'encrypted'> {
    const reader = await this.store.openReader(digest, range);
    if (reader?.storedSize === undefined || reader.storedSize === plainSize) return reader;
    await reader.close();
    return 'encrypted';
  }

  /**
   * Encrypts in place a blob an earlier version stored in plaintext, for the repositories that link
   * it: a new data key, wrapped by each of their keys, is recorded first; then the ciphertext
   * replaces the plaintext in one step (a rename, or an object put), and readers tell the two apart
   * by size. The plaintext must still match its digest. False when there was nothing to do or it
   * cannot be done now (encrypted meanwhile, gone, unlinked, or a repository's KMS key unusable).
   */
  async encryptStoredPlaintext(digest: string, plainSize: number, repos: Repository[]): Promise<boolean> {
    if (plainSize === 0 || repos.length === 0 || this.storeEncrypts) return false;
    return whileClaimed(this.meta, `commit:${digest}`, async () => {
      if ((await this.store.stat(digest)) !== plainSize) return false;
      const keys = new Map<string, RepositoryKey>();
      for (const repo of repos) {
        const key = await this.repositoryKey(this.kms, repo).catch(() => undefined);
        if (!key) return false;
        keys.set(key.ref, key);
      }
      const uploadId = `encrypt-${randomUUID()}`;
      try {
        const reader = await this.store.openReader(digest);
        if (!reader) return false;
        const hash = createHash(digest.slice(0, digest.indexOf(':')));
        const appended = await this.cipher.append(uploadId, 0, hashed(reader, hash), { last: true });
        if (appended !== plainSize || `${digest.slice(0, digest.indexOf(':'))}:${hash.digest('hex')}` !== digest) {
          throw new SegmentError(`stored blob ${digest} no longer matches its digest; left as it is`);
        }
        const stored = await this.cipher.finish(uploadId, plainSize);
        const dataKey = this.cipher.keyOf(uploadId);
        const wrappings: [string, Buffer][] = [];
        for (const key of keys.values()) wrappings.push([key.ref, await this.wrap(this.kms, key, digest, dataKey)]);
        await this.meta.transaction(async (tx) => {
          await tx.lock(`blob:${digest}`);
          await tx.kms.deleteBlobDataKeys(digest);
          for (const [ref, wrapped] of wrappings) await tx.kms.addBlobDataKey(digest, ref, wrapped);
        });
        await this.store.commitUpload(uploadId, digest, stored);
        await this.cipher.dropTails(uploadId);
        return true;
      } catch (e) {
        await this.cipher.cancel(uploadId).catch(() => undefined);
        throw e;
      }
    });
  }

  /** Whether the blob is stored encrypted (a store URL would hand out ciphertext). */
  async isEncrypted(digest: string): Promise<boolean> {
    return (await this.meta.kms.blobDataKeys(digest)).size > 0;
  }

  /** The repository's key, usable now; a KMS failure otherwise. */
  private async repositoryKey(kms: Kms, repo: Repository): Promise<RepositoryKey> {
    const cfg = repo.settings.encryptionConfiguration;
    if (cfg.encryptionType === 'AES256') return { ref: BERTH_MANAGED_KEY };
    const m = cfg.kmsKey ? KEY_ARN.exec(cfg.kmsKey) : null;
    const scope: KmsScope = { accountId: m?.[2] ?? repo.registryId, region: m?.[1] ?? this.region };
    try {
      // A repository written by an earlier version may name an alias, or no key at all.
      const key = m ? await kms.resolve(scope, m[3]!, { aliases: false }) : cfg.kmsKey ? await kms.resolve(scope, cfg.kmsKey) : await kms.ecrManagedKey(scope);
      assertUsable(key);
      return { ref: key.id, kms: key };
    } catch (e) {
      throw kmsFailure(e, `the KMS key ${cfg.kmsKey ?? 'alias/aws/ecr'} of the repository '${repo.name}' cannot be used`);
    }
  }

  private async wrap(kms: Kms, key: RepositoryKey, digest: string, dataKey: Buffer): Promise<Buffer> {
    if (!('kms' in key)) return this.master.wrap(dataKey, blobContext(digest));
    return kms.encrypt(key.kms, dataKey, { 'berth:blob': digest });
  }

  /** The blob's data key, unwrapped by the preferred key if it has a wrapping, else by any usable one. */
  private async unwrapAny(kms: Kms, digest: string, wrapped: Map<string, Buffer>, preferred: string): Promise<Buffer> {
    const order = [...wrapped.keys()].sort((a, b) => (a === preferred ? -1 : b === preferred ? 1 : 0));
    let failure: unknown;
    for (const ref of order) {
      try {
        if (ref === BERTH_MANAGED_KEY) return this.master.unwrap(wrapped.get(ref)!, blobContext(digest));
        const key = await kms.byId(ref);
        if (!key) continue;
        return await kms.decrypt(key, wrapped.get(ref)!, { 'berth:blob': digest });
      } catch (e) {
        failure = e;
      }
    }
    throw kmsFailure(failure, `no usable key can decrypt the data key of ${digest}`);
  }
}

/** The ARN of the KMS key that protects the repository, if any: what pulling needs kms:Decrypt on. */
export function repositoryKmsKeyArn(repo: Repository): string | undefined {
  const cfg = repo.settings.encryptionConfiguration;
  return cfg.encryptionType !== 'AES256' && cfg.kmsKey && KEY_ARN.test(cfg.kmsKey) ? cfg.kmsKey : undefined;
}

/** The reader's bytes, each chunk also fed to `hash`; closes the reader. */
async function* hashed(reader: BlobReader, hash: Hash): AsyncIterable<Buffer> {
  try {
    for (;;) {
      const chunk = Buffer.allocUnsafe(1024 * 1024);
      const n = await reader.read(chunk);
      if (n === 0) return;
      hash.update(chunk.subarray(0, n));
      yield chunk.subarray(0, n);
    }
  } finally {
    await reader.close();
  }
}

function blobContext(digest: string): string {
  return `blob ${digest}`;
}

function kmsFailure(e: unknown, what: string): unknown {
  if (e instanceof RegistryError) return e;
  if (e instanceof KmsError || e === undefined) {
    const type = e instanceof KmsError ? e.type : 'NotFoundException';
    return new RegistryError('Kms', `${what}: ${e instanceof KmsError ? e.message : 'no key'}`, { kmsError: type });
  }
  return e;
}
