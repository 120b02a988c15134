import { randomBytes, randomUUID } from 'node:crypto';
import { parsePolicyDocument } from '../../policy/index.js';
import type { KmsAliasRow, KmsKeyRow, KmsStore } from '../../store/meta/kms-store.js';
import { KmsError } from './errors.js';
import { seal, unseal, type MasterKey } from './master-key.js';
import { defaultKeyPolicy, ecrManagedKeyPolicy } from './policies.js';

/** The account and region a KMS request addresses. */
export interface KmsScope {
  accountId: string;
  region: string;
}

export type EncryptionContext = Record<string, string>;

export interface CreateKeyInput {
  description?: string;
  keyUsage?: string;
  keySpec?: string;
  origin?: string;
  policy?: string;
  tags?: Array<{ TagKey: string; TagValue: string }>;
}

export interface AliasEntry extends KmsAliasRow {
  arn: string;
}

const KEY_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const KEY_ARN = /^arn:([^:]+):kms:([^:]+):(\d{12}):key\/(.+)$/;
const ALIAS_ARN = /^arn:([^:]+):kms:([^:]+):(\d{12}):(alias\/.+)$/;
const ALIAS_NAME = /^alias\/[a-zA-Z0-9/_-]+$/;
const CIPHERTEXT_VERSION = 1;
const HEADER_BYTES = 1 + 36 + 4;
const MAX_TAGS = 50;
const ROTATION_PERIOD_MS = 365 * 24 * 3600 * 1000;
const DAY_MS = 24 * 3600 * 1000;
export const ECR_MANAGED_ALIAS = 'alias/aws/ecr';

export function keyArn(key: Pick<KmsKeyRow, 'region' | 'accountId' | 'id'>): string {
  return `arn:aws:kms:${key.region}:${key.accountId}:key/${key.id}`;
}

export function aliasArn(scope: KmsScope, name: string): string {
  return `arn:aws:kms:${scope.region}:${scope.accountId}:${name}`;
}

/**
 * AWS KMS: symmetric keys (AES-256-GCM), aliases, key policies, rotation and deletion. Key material
 * never leaves berth unwrapped: it is stored wrapped by the master key, one version per rotation,
 * and every ciphertext names the version that made it, so old ciphertexts still decrypt.
 */
export class Kms {
  constructor(
    private readonly store: () => KmsStore,
    private readonly master: MasterKey,
    private readonly now: () => number = Date.now,
  ) {}

  // ---- keys ----------------------------------------------------------------------------------
  async createKey(scope: KmsScope, input: CreateKeyInput, keyManager: 'AWS' | 'CUSTOMER' = 'CUSTOMER'): Promise<KmsKeyRow> {
    const keySpec = input.keySpec ?? 'SYMMETRIC_DEFAULT';
    const keyUsage = input.keyUsage ?? 'ENCRYPT_DECRYPT';
    if (keySpec !== 'SYMMETRIC_DEFAULT') throw new KmsError('UnsupportedOperationException', `KeySpec ${keySpec} is not supported; berth offers symmetric keys (SYMMETRIC_DEFAULT)`);
    if (keyUsage !== 'ENCRYPT_DECRYPT') throw new KmsError('ValidationException', `KeyUsage ${keyUsage} is not compatible with KeySpec SYMMETRIC_DEFAULT`);
    const origin = input.origin ?? 'AWS_KMS';
    if (origin !== 'AWS_KMS') throw new KmsError('UnsupportedOperationException', `Origin ${origin} is not supported; berth generates key material itself (AWS_KMS)`);
    if (input.policy !== undefined) assertKeyPolicy(input.policy);
    const tags = input.tags ?? [];
    assertTags(tags);
    const key: KmsKeyRow = {
      id: randomUUID(),
      accountId: scope.accountId,
      region: scope.region,
      description: input.description ?? '',
      keyUsage,
      keySpec,
      origin,
      keyManager,
      state: 'Enabled',
      policy: input.policy ?? defaultKeyPolicy(scope.accountId),
      tags: dedupeTags([], tags),
      rotationEnabled: keyManager === 'AWS',
      deletionDate: null,
      pendingWindowDays: null,
      createdAt: this.now(),
    };
    await this.store().insertKey(key, this.wrapMaterial(key.id, 1, randomBytes(32)));
    return key;
  }

  /**
   * The key a key id, key ARN, alias name or alias ARN names in the scope; NotFoundException when
   * there is none. `aliases: false` for operations that take only a key id or key ARN.
   */
  async resolve(scope: KmsScope, ref: string, opts: { aliases?: boolean } = {}): Promise<KmsKeyRow> {
    const allowAliases = opts.aliases ?? true;
    let id: string | undefined;
    let aliasName: string | undefined;
    const keyArnMatch = KEY_ARN.exec(ref);
    const aliasArnMatch = ALIAS_ARN.exec(ref);
    if (KEY_ID.test(ref)) id = ref;
    else if (keyArnMatch) {
      if (keyArnMatch[2] !== scope.region || keyArnMatch[3] !== scope.accountId) throw notFound(ref);
      id = keyArnMatch[4]!;
    } else if (aliasArnMatch && allowAliases) {
      if (aliasArnMatch[2] !== scope.region || aliasArnMatch[3] !== scope.accountId) throw aliasNotFound(ref);
      aliasName = aliasArnMatch[4]!;
    } else if (ref.startsWith('alias/') && allowAliases) aliasName = ref;
    else if (ref.startsWith('arn:')) throw new KmsError('InvalidArnException', `Invalid arn ${ref}`);
    else throw notFound(ref);
    if (aliasName !== undefined) {
      const alias = await this.store().getAlias(scope.accountId, scope.region, aliasName);
      if (!alias) throw aliasNotFound(aliasArn(scope, aliasName));
      id = alias.keyId;
    }
    const key = await this.load(id!);
    if (!key || key.accountId !== scope.accountId || key.region !== scope.region) throw notFound(keyArn({ ...scope, id: id! }));
    return key;
  }

  /** The key, once its deletion date has passed deleted for good. */
  private async load(id: string): Promise<KmsKeyRow | undefined> {
    const key = await this.store().getKey(id);
    if (key?.state === 'PendingDeletion' && key.deletionDate !== null && key.deletionDate <= this.now()) {
      await this.store().deleteKey(key.id);
      return undefined;
    }
    return key;
  }

  /** A key by id, in whatever account and region; undefined if there is none (any more). */
  byId(id: string): Promise<KmsKeyRow | undefined> {
    return this.load(id);
  }

  async listKeys(scope: KmsScope, after: string, limit: number): Promise<KmsKeyRow[]> {
    return this.store().listKeys(scope.accountId, scope.region, after, limit);
  }

  async enable(key: KmsKeyRow): Promise<void> {
    assertNotPendingDeletion(key);
    await this.store().updateKey(key.id, { state: 'Enabled' });
  }

  async disable(key: KmsKeyRow): Promise<void> {
    assertNotPendingDeletion(key);
    await this.store().updateKey(key.id, { state: 'Disabled' });
  }

  async describe(key: KmsKeyRow, description: string): Promise<void> {
    assertNotPendingDeletion(key);
    await this.store().updateKey(key.id, { description });
  }

  async scheduleDeletion(key: KmsKeyRow, pendingWindowDays = 30): Promise<{ deletionDate: number; pendingWindowDays: number }> {
    if (pendingWindowDays < 7 || pendingWindowDays > 30) {
      throw new KmsError('ValidationException', `1 validation error detected: Value '${pendingWindowDays}' at 'pendingWindowInDays' failed to satisfy constraint: Member must have value between 7 and 30`);
    }
    assertNotPendingDeletion(key);
    const deletionDate = this.now() + pendingWindowDays * DAY_MS;
    await this.store().updateKey(key.id, { state: 'PendingDeletion', deletionDate, pendingWindowDays });
    return { deletionDate, pendingWindowDays };
  }

  async cancelDeletion(key: KmsKeyRow): Promise<void> {
    if (key.state !== 'PendingDeletion') throw new KmsError('KMSInvalidStateException', `${keyArn(key)} is not pending deletion.`);
    await this.store().updateKey(key.id, { state: 'Disabled', deletionDate: null, pendingWindowDays: null });
  }

  async setRotation(key: KmsKeyRow, enabled: boolean): Promise<void> {
    assertUsable(key);
    if (key.keyManager === 'AWS') throw new KmsError('UnsupportedOperationException', `${keyArn(key)} is an AWS managed key; AWS rotates it`);
    await this.store().updateKey(key.id, { rotationEnabled: enabled });
  }

  rotationStatus(key: KmsKeyRow): boolean {
    assertNotPendingDeletion(key);
    return key.rotationEnabled;
  }

  // ---- policies and tags ---------------------------------------------------------------------
  getPolicy(key: KmsKeyRow, policyName: string): string {
    assertPolicyName(policyName);
    assertNotPendingDeletion(key);
    return key.policy;
  }

  async putPolicy(key: KmsKeyRow, policyName: string, policy: string): Promise<void> {
    assertPolicyName(policyName);
    assertNotPendingDeletion(key);
    assertKeyPolicy(policy);
    await this.store().updateKey(key.id, { policy });
  }

  async tag(key: KmsKeyRow, tags: Array<{ TagKey: string; TagValue: string }>): Promise<void> {
    assertNotPendingDeletion(key);
    assertTags(tags);
    const merged = dedupeTags(key.tags, tags);
    if (merged.length > MAX_TAGS) throw new KmsError('TagException', `A key may have at most ${MAX_TAGS} tags`);
    await this.store().updateKey(key.id, { tags: merged });
  }

  async untag(key: KmsKeyRow, tagKeys: string[]): Promise<void> {
    assertNotPendingDeletion(key);
    for (const k of tagKeys) if (k.startsWith('aws:')) throw new KmsError('TagException', `Tag keys beginning with 'aws:' are reserved`);
    await this.store().updateKey(key.id, { tags: key.tags.filter((t) => !tagKeys.includes(t.TagKey)) });
  }

  // ---- aliases -------------------------------------------------------------------------------
  async createAlias(scope: KmsScope, name: string, key: KmsKeyRow): Promise<void> {
    assertAliasName(name);
    assertCustomerKey(key);
    assertNotPendingDeletion(key);
    const now = this.now();
    if (!(await this.store().createAlias({ accountId: scope.accountId, region: scope.region, name, keyId: key.id, createdAt: now, updatedAt: now }))) {
      throw new KmsError('AlreadyExistsException', `An alias with the name ${aliasArn(scope, name)} already exists`);
    }
  }

  async updateAlias(scope: KmsScope, name: string, key: KmsKeyRow): Promise<void> {
    assertAliasName(name);
    assertCustomerKey(key);
    assertNotPendingDeletion(key);
    if (!(await this.store().updateAlias(scope.accountId, scope.region, name, key.id, this.now()))) throw aliasNotFound(aliasArn(scope, name));
  }

  async deleteAlias(scope: KmsScope, name: string): Promise<void> {
    assertAliasName(name);
    if (!(await this.store().deleteAlias(scope.accountId, scope.region, name))) throw aliasNotFound(aliasArn(scope, name));
  }

  async alias(scope: KmsScope, name: string): Promise<KmsAliasRow | undefined> {
    return this.store().getAlias(scope.accountId, scope.region, name);
  }

  async listAliases(scope: KmsScope, keyId: string | undefined, after: string, limit: number): Promise<AliasEntry[]> {
    const rows = await this.store().listAliases(scope.accountId, scope.region, keyId, after, limit);
    return rows.map((r) => ({ ...r, arn: aliasArn(scope, r.name) }));
  }

  /** The account's AWS managed key for ECR (`alias/aws/ecr`), created on first use as AWS does. */
  async ecrManagedKey(scope: KmsScope): Promise<KmsKeyRow> {
    for (;;) {
      const alias = await this.store().getAlias(scope.accountId, scope.region, ECR_MANAGED_ALIAS);
      if (alias) {
        const key = await this.load(alias.keyId);
        if (key) return key;
      }
      const key = await this.createKey(
        scope,
        { description: 'Default key that protects my ECR data when no other key is defined', policy: ecrManagedKeyPolicy(scope.accountId, scope.region) },
        'AWS',
      );
      const now = this.now();
      if (await this.store().createAlias({ accountId: scope.accountId, region: scope.region, name: ECR_MANAGED_ALIAS, keyId: key.id, createdAt: now, updatedAt: now })) return key;
      // Another request created it first: use that one.
      await this.store().deleteKey(key.id);
    }
  }

  // ---- cryptography --------------------------------------------------------------------------
  /** Encrypts up to 4 KiB (the API's limit; berth's own data keys are 32 bytes) under the key's current material. */
  async encrypt(key: KmsKeyRow, plaintext: Buffer, context: EncryptionContext = {}): Promise<Buffer> {
    assertUsable(key);
    const { version, material } = await this.currentMaterial(key);
    const header = Buffer.alloc(HEADER_BYTES);
    header.writeUInt8(CIPHERTEXT_VERSION, 0);
    header.write(key.id, 1, 36, 'latin1');
    header.writeUInt32BE(version, 37);
    return Buffer.concat([header, seal(material, plaintext, ciphertextAad(header, context))]);
  }

  /** The key a ciphertext was made with; InvalidCiphertextException when it is not one of ours. */
  async ciphertextKey(scope: KmsScope, blob: Buffer): Promise<KmsKeyRow> {
    const id = parseHeader(blob).keyId;
    const key = await this.load(id);
    if (!key || key.accountId !== scope.accountId || key.region !== scope.region) throw invalidCiphertext();
    return key;
  }

  async decrypt(key: KmsKeyRow, blob: Buffer, context: EncryptionContext = {}): Promise<Buffer> {
    const { keyId, version } = parseHeader(blob);
    if (keyId !== key.id) throw new KmsError('IncorrectKeyException', 'The key ID in the request does not identify a KMS key that can perform this operation.');
    assertUsable(key);
    const row = await this.store().getVersion(key.id, version);
    if (!row) throw invalidCiphertext();
    const material = this.unwrapMaterial(key.id, version, row.material);
    try {
      return unseal(material, blob.subarray(HEADER_BYTES), ciphertextAad(blob.subarray(0, HEADER_BYTES), context));
    } catch {
      throw invalidCiphertext();
    }
  }

  async generateDataKey(key: KmsKeyRow, bytes: number, context: EncryptionContext = {}): Promise<{ plaintext: Buffer; ciphertext: Buffer }> {
    const plaintext = randomBytes(bytes);
    return { plaintext, ciphertext: await this.encrypt(key, plaintext, context) };
  }

  /** The key's newest material, rotated first when rotation is on and a year has passed. */
  private async currentMaterial(key: KmsKeyRow): Promise<{ version: number; material: Buffer }> {
    const store = this.store();
    let latest = await store.latestVersion(key.id);
    if (!latest) throw new KmsError('KMSInternalException', `no key material for ${keyArn(key)}`);
    if (key.rotationEnabled && this.now() - latest.createdAt >= ROTATION_PERIOD_MS) {
      const version = latest.version + 1;
      await store.addVersion(key.id, version, this.wrapMaterial(key.id, version, randomBytes(32)), this.now());
      latest = (await store.latestVersion(key.id))!;
    }
    return { version: latest.version, material: this.unwrapMaterial(key.id, latest.version, latest.material) };
  }

  private wrapMaterial(keyId: string, version: number, material: Buffer): Buffer {
    return this.master.wrap(material, `kms key ${keyId} v${version}`);
  }

  private unwrapMaterial(keyId: string, version: number, wrapped: Buffer): Buffer {
    return this.master.unwrap(wrapped, `kms key ${keyId} v${version}`);
  }
}

function parseHeader(blob: Buffer): { keyId: string; version: number } {
  if (blob.length < HEADER_BYTES + 28 || blob[0] !== CIPHERTEXT_VERSION) throw invalidCiphertext();
  const keyId = blob.toString('latin1', 1, 37);
  if (!KEY_ID.test(keyId)) throw invalidCiphertext();
  return { keyId, version: blob.readUInt32BE(37) };
}

/** The header and the encryption context, canonical (sorted by key), are authenticated with the ciphertext. */
function ciphertextAad(header: Buffer, context: EncryptionContext): Buffer {
  const canonical = JSON.stringify(Object.keys(context).sort().map((k) => [k, context[k]]));
  return Buffer.concat([header, Buffer.from(canonical)]);
}

function invalidCiphertext(): KmsError {
  return new KmsError('InvalidCiphertextException', '');
}

function notFound(ref: string): KmsError {
  return new KmsError('NotFoundException', `Key '${ref}' does not exist`);
}

function aliasNotFound(arn: string): KmsError {
  return new KmsError('NotFoundException', `Alias ${arn} is not found.`);
}

/** Enabled: what encrypting, decrypting and rotation settings need. */
export function assertUsable(key: KmsKeyRow): void {
  if (key.state === 'Disabled') throw new KmsError('DisabledException', `${keyArn(key)} is disabled.`);
  assertNotPendingDeletion(key);
}

function assertNotPendingDeletion(key: KmsKeyRow): void {
  if (key.state === 'PendingDeletion') throw new KmsError('KMSInvalidStateException', `${keyArn(key)} is pending deletion.`);
}

function assertCustomerKey(key: KmsKeyRow): void {
  if (key.keyManager === 'AWS') throw new KmsError('UnsupportedOperationException', `An alias cannot point to the AWS managed key ${keyArn(key)}`);
}

function assertAliasName(name: string): void {
  if (!ALIAS_NAME.test(name)) throw new KmsError('ValidationException', `Alias must start with the prefix "alias/". Please see https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html`);
  if (name.startsWith('alias/aws/')) throw new KmsError('InvalidAliasNameException', `Cannot create, update or delete an alias with the reserved prefix alias/aws/`);
}

function assertPolicyName(name: string): void {
  if (name !== 'default') throw new KmsError('NotFoundException', `Policy ${name} does not exist; the only key policy name is "default"`);
}

function assertKeyPolicy(text: string): void {
  try {
    JSON.parse(text);
    parsePolicyDocument(text, 'resource');
  } catch (e) {
    throw new KmsError('MalformedPolicyDocumentException', `The new key policy is not valid: ${(e as Error).message}`);
  }
}

function assertTags(tags: Array<{ TagKey: string; TagValue: string }>): void {
  for (const t of tags) {
    if (t.TagKey.startsWith('aws:')) throw new KmsError('TagException', `Tag keys beginning with 'aws:' are reserved`);
  }
  if (tags.length > MAX_TAGS) throw new KmsError('TagException', `A key may have at most ${MAX_TAGS} tags`);
}

function dedupeTags(current: Array<{ TagKey: string; TagValue: string }>, added: Array<{ TagKey: string; TagValue: string }>) {
  const map = new Map(current.map((t) => [t.TagKey, t.TagValue]));
  for (const t of added) map.set(t.TagKey, t.TagValue);
  return [...map].map(([TagKey, TagValue]) => ({ TagKey, TagValue }));
}
