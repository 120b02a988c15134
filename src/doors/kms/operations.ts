import { requestTagContext, tagKeysContext, type AuthzContext } from '../../iam/identity.js';
import { randomBytes } from 'node:crypto';
import type { Principal } from '../../iam/auth/principal.js';
import { KmsError } from '../../domain/kms/errors.js';
import { aliasArn, keyArn, type Kms, type KmsScope } from '../../domain/kms/kms.js';
import type { KmsKeyRow } from '../../store/meta/kms-store.js';
import {
  encryptionContext,
  optionalBoolean,
  optionalEnum,
  optionalInteger,
  optionalString,
  requiredBlob,
  requiredString,
  stringList,
  tagList,
  type KmsInput,
} from './validate.js';

export interface KmsContext {
  principal: Principal;
  scope: KmsScope;
  kms: Kms;
  /** Authorizes `kms:<action>` on the resource (a key ARN, or `*`), with the request's own condition keys (its tags); throws AccessDeniedException. */
  authorize(action: string, resourceArn: string, context?: AuthzContext): Promise<void>;
  /** Whether the principal would be allowed `action` on `keyArn` under `policyText` (the lockout check). */
  wouldAllow(action: string, keyArn: string, policyText: string): Promise<boolean>;
}

export type KmsOperation = (input: KmsInput, ctx: KmsContext) => Promise<Record<string, unknown>>;

const KEY_ID = { min: 1, max: 2048 };
const ALIAS_NAME = { min: 1, max: 256, pattern: /^[a-zA-Z0-9:/_-]+$/ };
const POLICY = { min: 1, max: 131072 };
const ENCRYPTION_ALGORITHMS = ['SYMMETRIC_DEFAULT', 'RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256', 'SM2PKE'] as const;
const KEY_SPECS = ['RSA_2048', 'RSA_3072', 'RSA_4096', 'ECC_NIST_P256', 'ECC_NIST_P384', 'ECC_NIST_P521', 'ECC_SECG_P256K1', 'SYMMETRIC_DEFAULT', 'HMAC_224', 'HMAC_256', 'HMAC_384', 'HMAC_512', 'SM2'] as const;
const KEY_USAGES = ['SIGN_VERIFY', 'ENCRYPT_DECRYPT', 'GENERATE_VERIFY_MAC'] as const;
const ORIGINS = ['AWS_KMS', 'EXTERNAL', 'AWS_CLOUDHSM', 'EXTERNAL_KEY_STORE'] as const;
const DATA_KEY_SPECS = ['AES_256', 'AES_128'] as const;

/** KeyMetadata as DescribeKey and CreateKey return it. */
export function keyMetadata(key: KmsKeyRow): Record<string, unknown> {
  const out: Record<string, unknown> = {
    AWSAccountId: key.accountId,
    KeyId: key.id,
    Arn: keyArn(key),
    CreationDate: key.createdAt / 1000,
    Enabled: key.state === 'Enabled',
    Description: key.description,
    KeyUsage: key.keyUsage,
    KeyState: key.state,
    Origin: key.origin,
    KeyManager: key.keyManager,
    CustomerMasterKeySpec: key.keySpec,
    KeySpec: key.keySpec,
    EncryptionAlgorithms: ['SYMMETRIC_DEFAULT'],
    MultiRegion: false,
  };
  if (key.deletionDate !== null) out.DeletionDate = key.deletionDate / 1000;
  if (key.pendingWindowDays !== null) out.PendingDeletionWindowInDays = key.pendingWindowDays;
  return out;
}

/** Paging by a marker that is the last item's sort key, base64 so it is opaque. */
function marker(input: KmsInput): string {
  const m = optionalString(input, 'Marker', { min: 1, max: 1024 });
  if (m === undefined) return '';
  const decoded = Buffer.from(m, 'base64').toString('utf8');
  if (Buffer.from(decoded).toString('base64') !== m) throw new KmsError('InvalidMarkerException', 'Invalid marker');
  return decoded;
}

function page<T>(items: T[], limit: number, sortKey: (item: T) => string): { items: T[]; Truncated: boolean; NextMarker?: string } {
  if (items.length <= limit) return { items, Truncated: false };
  const shown = items.slice(0, limit);
  return { items: shown, Truncated: true, NextMarker: Buffer.from(sortKey(shown[shown.length - 1]!)).toString('base64') };
}

/** Resolves the key a request names and authorizes the action on it. */
async function keyFor(ctx: KmsContext, action: string, ref: string, aliases = false, context?: AuthzContext): Promise<KmsKeyRow> {
  const key = await ctx.kms.resolve(ctx.scope, ref, { aliases });
  await ctx.authorize(`kms:${action}`, keyArn(key), context);
  return key;
}

/** A new data key under the request's KMS key: NumberOfBytes or KeySpec, one of them. */
async function dataKey(input: KmsInput, ctx: KmsContext, action: string): Promise<{ key: KmsKeyRow; plaintext: Buffer; ciphertext: Buffer }> {
  const ref = requiredString(input, 'KeyId', KEY_ID);
  const context = encryptionContext(input, 'EncryptionContext');
  const numberOfBytes = optionalInteger(input, 'NumberOfBytes', 1, 1024);
  const keySpec = optionalEnum(input, 'KeySpec', DATA_KEY_SPECS);
  if ((numberOfBytes === undefined) === (keySpec === undefined)) {
    throw new KmsError('ValidationException', 'Please specify either number of bytes or key spec.');
  }
  const key = await keyFor(ctx, action, ref, true);
  return { key, ...(await ctx.kms.generateDataKey(key, numberOfBytes ?? (keySpec === 'AES_128' ? 16 : 32), context)) };
}

function b64(buf: Buffer): string {
  return buf.toString('base64');
}

export const KMS_OPERATIONS: Record<string, KmsOperation> = {
  async CreateKey(input, ctx) {
    const policy = optionalString(input, 'Policy', POLICY);
    const description = optionalString(input, 'Description', { min: 0, max: 8192 });
    const keyUsage = optionalEnum(input, 'KeyUsage', KEY_USAGES);
    const keySpec = optionalEnum(input, 'KeySpec', KEY_SPECS) ?? optionalEnum(input, 'CustomerMasterKeySpec', KEY_SPECS);
    const origin = optionalEnum(input, 'Origin', ORIGINS);
    const tags = tagList(input, 'Tags', false);
    const bypass = optionalBoolean(input, 'BypassPolicyLockoutSafetyCheck') ?? false;
    if (optionalBoolean(input, 'MultiRegion')) throw new KmsError('UnsupportedOperationException', 'Multi-Region keys are not supported');
    if (input.CustomKeyStoreId !== undefined || input.XksKeyId !== undefined) throw new KmsError('UnsupportedOperationException', 'Custom key stores are not supported');
    const tagContext = requestTagContext((tags ?? []).map((t) => ({ Key: t.TagKey, Value: t.TagValue })));
    await ctx.authorize('kms:CreateKey', '*', tagContext);
    if (tagContext) await ctx.authorize('kms:TagResource', '*', tagContext);
    if (policy !== undefined && !bypass) await assertNoLockout(ctx, `arn:aws:kms:${ctx.scope.region}:${ctx.scope.accountId}:key/*`, policy);
    const key = await ctx.kms.createKey(ctx.scope, { policy, description, keyUsage, keySpec, origin, tags });
    return { KeyMetadata: keyMetadata(key) };
  },

  async DescribeKey(input, ctx) {
    const key = await keyFor(ctx, 'DescribeKey', requiredString(input, 'KeyId', KEY_ID), true);
    return { KeyMetadata: keyMetadata(key) };
  },

  async ListKeys(input, ctx) {
    const limit = optionalInteger(input, 'Limit', 1, 1000) ?? 100;
    const after = marker(input);
    await ctx.authorize('kms:ListKeys', '*');
    const { items, ...rest } = page(await ctx.kms.listKeys(ctx.scope, after, limit + 1), limit, (k) => k.id);
    return { Keys: items.map((k) => ({ KeyId: k.id, KeyArn: keyArn(k) })), ...rest };
  },

  async CreateAlias(input, ctx) {
    const name = requiredString(input, 'AliasName', ALIAS_NAME);
    const key = await ctx.kms.resolve(ctx.scope, requiredString(input, 'TargetKeyId', KEY_ID));
    await ctx.authorize('kms:CreateAlias', aliasArn(ctx.scope, name));
    await ctx.authorize('kms:CreateAlias', keyArn(key));
    await ctx.kms.createAlias(ctx.scope, name, key);
    return {};
  },

  async UpdateAlias(input, ctx) {
    const name = requiredString(input, 'AliasName', ALIAS_NAME);
    const key = await ctx.kms.resolve(ctx.scope, requiredString(input, 'TargetKeyId', KEY_ID));
    const current = await ctx.kms.alias(ctx.scope, name);
    await ctx.authorize('kms:UpdateAlias', aliasArn(ctx.scope, name));
    if (current) await ctx.authorize('kms:UpdateAlias', keyArn({ ...ctx.scope, id: current.keyId }));
    await ctx.authorize('kms:UpdateAlias', keyArn(key));
    await ctx.kms.updateAlias(ctx.scope, name, key);
    return {};
  },

  async DeleteAlias(input, ctx) {
    const name = requiredString(input, 'AliasName', ALIAS_NAME);
    const current = await ctx.kms.alias(ctx.scope, name);
    await ctx.authorize('kms:DeleteAlias', aliasArn(ctx.scope, name));
    if (current) await ctx.authorize('kms:DeleteAlias', keyArn({ ...ctx.scope, id: current.keyId }));
    await ctx.kms.deleteAlias(ctx.scope, name);
    return {};
  },

  async ListAliases(input, ctx) {
    const keyRef = optionalString(input, 'KeyId', KEY_ID);
    const limit = optionalInteger(input, 'Limit', 1, 100) ?? 50;
    const after = marker(input);
    await ctx.authorize('kms:ListAliases', '*');
    const keyId = keyRef === undefined ? undefined : (await ctx.kms.resolve(ctx.scope, keyRef, { aliases: false })).id;
    const { items, ...rest } = page(await ctx.kms.listAliases(ctx.scope, keyId, after, limit + 1), limit, (a) => a.name);
    return {
      Aliases: items.map((a) => ({ AliasName: a.name, AliasArn: a.arn, TargetKeyId: a.keyId, CreationDate: a.createdAt / 1000, LastUpdatedDate: a.updatedAt / 1000 })),
      ...rest,
    };
  },

  async EnableKey(input, ctx) {
    await ctx.kms.enable(await keyFor(ctx, 'EnableKey', requiredString(input, 'KeyId', KEY_ID)));
    return {};
  },

  async DisableKey(input, ctx) {
    await ctx.kms.disable(await keyFor(ctx, 'DisableKey', requiredString(input, 'KeyId', KEY_ID)));
    return {};
  },

  async ScheduleKeyDeletion(input, ctx) {
    const ref = requiredString(input, 'KeyId', KEY_ID);
    const days = optionalInteger(input, 'PendingWindowInDays', 1, 365);
    const key = await keyFor(ctx, 'ScheduleKeyDeletion', ref);
    const scheduled = await ctx.kms.scheduleDeletion(key, days);
    return { KeyId: keyArn(key), DeletionDate: scheduled.deletionDate / 1000, KeyState: 'PendingDeletion', PendingWindowInDays: scheduled.pendingWindowDays };
  },

  async CancelKeyDeletion(input, ctx) {
    const key = await keyFor(ctx, 'CancelKeyDeletion', requiredString(input, 'KeyId', KEY_ID));
    await ctx.kms.cancelDeletion(key);
    return { KeyId: keyArn(key) };
  },

  async EnableKeyRotation(input, ctx) {
    await ctx.kms.setRotation(await keyFor(ctx, 'EnableKeyRotation', requiredString(input, 'KeyId', KEY_ID)), true);
    return {};
  },

  async DisableKeyRotation(input, ctx) {
    await ctx.kms.setRotation(await keyFor(ctx, 'DisableKeyRotation', requiredString(input, 'KeyId', KEY_ID)), false);
    return {};
  },

  async GetKeyRotationStatus(input, ctx) {
    const key = await keyFor(ctx, 'GetKeyRotationStatus', requiredString(input, 'KeyId', KEY_ID));
    return { KeyRotationEnabled: ctx.kms.rotationStatus(key) };
  },

  async Encrypt(input, ctx) {
    const ref = requiredString(input, 'KeyId', KEY_ID);
    const plaintext = requiredBlob(input, 'Plaintext', 1, 4096);
    const context = encryptionContext(input, 'EncryptionContext');
    assertSymmetric(optionalEnum(input, 'EncryptionAlgorithm', ENCRYPTION_ALGORITHMS));
    const key = await keyFor(ctx, 'Encrypt', ref, true);
    const blob = await ctx.kms.encrypt(key, plaintext, context);
    return { CiphertextBlob: b64(blob), KeyId: keyArn(key), EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' };
  },

  async Decrypt(input, ctx) {
    const blob = requiredBlob(input, 'CiphertextBlob', 1, 6144);
    const context = encryptionContext(input, 'EncryptionContext');
    const ref = optionalString(input, 'KeyId', KEY_ID);
    assertSymmetric(optionalEnum(input, 'EncryptionAlgorithm', ENCRYPTION_ALGORITHMS));
    const key = await ctx.kms.ciphertextKey(ctx.scope, blob);
    await ctx.authorize('kms:Decrypt', keyArn(key));
    if (ref !== undefined && (await ctx.kms.resolve(ctx.scope, ref)).id !== key.id) {
      throw new KmsError('IncorrectKeyException', 'The key ID in the request does not identify a KMS key that can perform this operation.');
    }
    const plaintext = await ctx.kms.decrypt(key, blob, context);
    return { KeyId: keyArn(key), Plaintext: b64(plaintext), EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' };
  },

  async GenerateDataKey(input, ctx) {
    const { key, plaintext, ciphertext } = await dataKey(input, ctx, 'GenerateDataKey');
    return { CiphertextBlob: b64(ciphertext), Plaintext: b64(plaintext), KeyId: keyArn(key) };
  },

  async GenerateDataKeyWithoutPlaintext(input, ctx) {
    const { key, ciphertext } = await dataKey(input, ctx, 'GenerateDataKeyWithoutPlaintext');
    return { CiphertextBlob: b64(ciphertext), KeyId: keyArn(key) };
  },

  async GenerateRandom(input, ctx) {
    const numberOfBytes = optionalInteger(input, 'NumberOfBytes', 1, 1024);
    if (input.CustomKeyStoreId !== undefined) throw new KmsError('UnsupportedOperationException', 'Custom key stores are not supported');
    if (input.Recipient !== undefined) throw new KmsError('UnsupportedOperationException', 'Attested (Nitro Enclaves) recipients are not supported');
    if (numberOfBytes === undefined) throw new KmsError('ValidationException', 'Please specify the number of bytes.');
    await ctx.authorize('kms:GenerateRandom', '*');
    return { Plaintext: b64(randomBytes(numberOfBytes)) };
  },

  async ReEncrypt(input, ctx) {
    const blob = requiredBlob(input, 'CiphertextBlob', 1, 6144);
    const sourceContext = encryptionContext(input, 'SourceEncryptionContext');
    const destinationContext = encryptionContext(input, 'DestinationEncryptionContext');
    const sourceRef = optionalString(input, 'SourceKeyId', KEY_ID);
    const destinationRef = requiredString(input, 'DestinationKeyId', KEY_ID);
    assertSymmetric(optionalEnum(input, 'SourceEncryptionAlgorithm', ENCRYPTION_ALGORITHMS));
    assertSymmetric(optionalEnum(input, 'DestinationEncryptionAlgorithm', ENCRYPTION_ALGORITHMS));
    const source = await ctx.kms.ciphertextKey(ctx.scope, blob);
    await ctx.authorize('kms:ReEncryptFrom', keyArn(source));
    if (sourceRef !== undefined && (await ctx.kms.resolve(ctx.scope, sourceRef)).id !== source.id) {
      throw new KmsError('IncorrectKeyException', 'The key ID in the request does not identify a KMS key that can perform this operation.');
    }
    const destination = await keyFor(ctx, 'ReEncryptTo', destinationRef, true);
    const plaintext = await ctx.kms.decrypt(source, blob, sourceContext);
    const reencrypted = await ctx.kms.encrypt(destination, plaintext, destinationContext);
    return {
      CiphertextBlob: b64(reencrypted),
      SourceKeyId: keyArn(source),
      KeyId: keyArn(destination),
      SourceEncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
      DestinationEncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
    };
  },

  async TagResource(input, ctx) {
    const ref = requiredString(input, 'KeyId', KEY_ID);
    const tags = tagList(input, 'Tags', true)!;
    await ctx.kms.tag(await keyFor(ctx, 'TagResource', ref, false, requestTagContext(tags.map((t) => ({ Key: t.TagKey, Value: t.TagValue })))), tags);
    return {};
  },

  async UntagResource(input, ctx) {
    const ref = requiredString(input, 'KeyId', KEY_ID);
    const keys = stringList(input, 'TagKeys');
    await ctx.kms.untag(await keyFor(ctx, 'UntagResource', ref, false, tagKeysContext(keys)), keys);
    return {};
  },

  async ListResourceTags(input, ctx) {
    const ref = requiredString(input, 'KeyId', KEY_ID);
    const limit = optionalInteger(input, 'Limit', 1, 50) ?? 50;
    const after = marker(input);
    const key = await keyFor(ctx, 'ListResourceTags', ref);
    const sorted = [...key.tags].sort((a, b) => (a.TagKey < b.TagKey ? -1 : a.TagKey > b.TagKey ? 1 : 0)).filter((t) => t.TagKey > after);
    const { items, ...rest } = page(sorted, limit, (t) => t.TagKey);
    return { Tags: items, ...rest };
  },

  async GetKeyPolicy(input, ctx) {
    const ref = requiredString(input, 'KeyId', KEY_ID);
    const name = requiredString(input, 'PolicyName', { min: 1, max: 128, pattern: /^[\w]+$/ });
    return { Policy: ctx.kms.getPolicy(await keyFor(ctx, 'GetKeyPolicy', ref), name) };
  },

  async ListKeyPolicies(input, ctx) {
    const ref = requiredString(input, 'KeyId', KEY_ID);
    optionalInteger(input, 'Limit', 1, 1000);
    // A key has one policy, `default`: no page follows the first, so no marker is one berth gave.
    if (marker(input) !== '') throw new KmsError('InvalidMarkerException', 'Invalid marker');
    const key = await keyFor(ctx, 'ListKeyPolicies', ref);
    ctx.kms.getPolicy(key, 'default');
    return { PolicyNames: ['default'], Truncated: false };
  },

  async UpdateKeyDescription(input, ctx) {
    const ref = requiredString(input, 'KeyId', KEY_ID);
    const description = requiredString(input, 'Description', { min: 0, max: 8192 });
    await ctx.kms.describe(await keyFor(ctx, 'UpdateKeyDescription', ref), description);
    return {};
  },

  async PutKeyPolicy(input, ctx) {
    const ref = requiredString(input, 'KeyId', KEY_ID);
    const name = requiredString(input, 'PolicyName', { min: 1, max: 128, pattern: /^[\w]+$/ });
    const policy = requiredString(input, 'Policy', POLICY);
    const bypass = optionalBoolean(input, 'BypassPolicyLockoutSafetyCheck') ?? false;
    const key = await keyFor(ctx, 'PutKeyPolicy', ref);
    if (!bypass) await assertNoLockout(ctx, keyArn(key), policy);
    await ctx.kms.putPolicy(key, name, policy);
    return {};
  },
};

/** KMS refuses a key policy that would keep the caller from changing it again (unless told to bypass). */
async function assertNoLockout(ctx: KmsContext, arn: string, policy: string): Promise<void> {
  let allowed: boolean;
  try {
    allowed = await ctx.wouldAllow('kms:PutKeyPolicy', arn, policy);
  } catch {
    throw new KmsError('MalformedPolicyDocumentException', 'The new key policy is not a valid policy document.');
  }
  if (!allowed) {
    throw new KmsError(
      'MalformedPolicyDocumentException',
      'The new key policy will not allow you to update the key policy in the future.',
    );
  }
}

function assertSymmetric(algorithm: string | undefined): void {
  if (algorithm !== undefined && algorithm !== 'SYMMETRIC_DEFAULT') {
    throw new KmsError('InvalidKeyUsageException', `EncryptionAlgorithm ${algorithm} is not supported for symmetric keys`);
  }
}

/** Operations that take KMS's DryRun parameter (of those berth offers). */
export const DRY_RUN_OPERATIONS = new Set(['Encrypt', 'Decrypt', 'ReEncrypt', 'GenerateDataKey', 'GenerateDataKeyWithoutPlaintext']);

/** Operations that change nothing a policy decision reads. */
export const READ_ONLY = /^(Describe|List|Get|Encrypt|Decrypt|GenerateDataKey|GenerateRandom|ReEncrypt)/;

const SYMMETRIC_ONLY = "berth's KMS keys are symmetric encryption keys (SYMMETRIC_DEFAULT, ENCRYPT_DECRYPT)";
/**
 * KMS operations berth does not offer, with why: answered with KMS's UnsupportedOperationException
 * rather than as operations that do not exist.
 */
export const KMS_UNSUPPORTED: Record<string, string> = {
  Sign: SYMMETRIC_ONLY,
  Verify: SYMMETRIC_ONLY,
  GetPublicKey: SYMMETRIC_ONLY,
  GenerateMac: SYMMETRIC_ONLY,
  VerifyMac: SYMMETRIC_ONLY,
  GenerateDataKeyPair: 'Data key pairs are not supported',
  GenerateDataKeyPairWithoutPlaintext: 'Data key pairs are not supported',
  DeriveSharedSecret: SYMMETRIC_ONLY,
  CreateGrant: 'Grants are not supported; use key policies and IAM policies',
  ListGrants: 'Grants are not supported; use key policies and IAM policies',
  ListRetirableGrants: 'Grants are not supported; use key policies and IAM policies',
  RetireGrant: 'Grants are not supported; use key policies and IAM policies',
  RevokeGrant: 'Grants are not supported; use key policies and IAM policies',
  CreateCustomKeyStore: 'Custom key stores are not supported',
  ConnectCustomKeyStore: 'Custom key stores are not supported',
  DeleteCustomKeyStore: 'Custom key stores are not supported',
  DescribeCustomKeyStores: 'Custom key stores are not supported',
  DisconnectCustomKeyStore: 'Custom key stores are not supported',
  UpdateCustomKeyStore: 'Custom key stores are not supported',
  GetParametersForImport: 'Imported key material is not supported; berth generates key material itself',
  ImportKeyMaterial: 'Imported key material is not supported; berth generates key material itself',
  DeleteImportedKeyMaterial: 'Imported key material is not supported; berth generates key material itself',
  ReplicateKey: 'Multi-Region keys are not supported',
  UpdatePrimaryRegion: 'Multi-Region keys are not supported',
  RotateKeyOnDemand: 'On-demand rotation is not supported; enable automatic rotation instead',
  ListKeyRotations: 'Listing rotations is not supported; GetKeyRotationStatus reports whether rotation is on',
};

