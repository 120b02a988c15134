// The KMS API on berth's one endpoint, driven with the real aws CLI v2: keys, aliases, state,
// rotation, deletion, cryptography, tags, key policies, and authorization by IAM and key policies.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AWS, awsCliEnv } from '../helpers/aws-cli.js';
import { startBerth, type Berth } from '../helpers/berth.js';
import { run, tempDir } from '../helpers/tools.js';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';

describe('KMS API via the aws CLI v2', () => {
  let b: Berth;
  let work: { path: string; remove: () => Promise<void> };
  let env: Record<string, string>;
  let accountId: string;

  const aws = async (args: string[], extraEnv: Record<string, string> = {}) =>
    run(AWS, ['--endpoint-url', b.url, '--output', 'json', ...args], { env: { ...env, ...extraEnv }, check: false, timeoutMs: 60_000 });
  const kms = async <T = Record<string, any>>(args: string[], extraEnv: Record<string, string> = {}): Promise<T> => {
    const res = await aws(['kms', ...args], extraEnv);
    if (res.code !== 0) assert.fail(`aws kms ${args.join(' ')} exited ${res.code}: ${res.stderr}\n${b.output().slice(-2000)}`);
    return (res.stdout.trim() ? JSON.parse(res.stdout) : {}) as T;
  };
  /** Runs a command that must fail; returns the exception name the CLI printed. */
  const kmsError = async (args: string[], extraEnv: Record<string, string> = {}): Promise<string> => {
    const res = await aws(['kms', ...args], extraEnv);
    assert.notEqual(res.code, 0, `aws kms ${args.join(' ')} should have failed: ${res.stdout}`);
    return /An error occurred \((\w+)\)/.exec(res.stderr)?.[1] ?? res.stderr;
  };

  before(async () => {
    b = await startBerth();
    work = await tempDir('kms-cli');
    env = await awsCliEnv(b);
    const who = JSON.parse((await aws(['sts', 'get-caller-identity'])).stdout) as { Account: string };
    accountId = who.Account;
  });

  after(async () => {
    await b?.destroy();
    await work?.remove();
  });

  test('create-key, describe-key, list-keys, the default key policy', async () => {
    const created = (await kms(['create-key', '--description', 'app key', '--tags', 'TagKey=team,TagValue=platform'])).KeyMetadata;
    assert.match(created.KeyId, /^[0-9a-f-]{36}$/);
    assert.equal(created.Arn, `arn:aws:kms:${env.AWS_DEFAULT_REGION}:${accountId}:key/${created.KeyId}`);
    assert.equal(created.KeyState, 'Enabled');
    assert.equal(created.Enabled, true);
    assert.equal(created.KeyManager, 'CUSTOMER');
    assert.equal(created.KeySpec, 'SYMMETRIC_DEFAULT');
    assert.equal(created.KeyUsage, 'ENCRYPT_DECRYPT');
    assert.equal(created.Description, 'app key');

    const described = (await kms(['describe-key', '--key-id', created.Arn])).KeyMetadata;
    assert.equal(described.KeyId, created.KeyId);
    const keys = (await kms(['list-keys'])).Keys as Array<{ KeyId: string; KeyArn: string }>;
    assert.ok(keys.some((k) => k.KeyId === created.KeyId && k.KeyArn === created.Arn));

    const policy = JSON.parse((await kms(['get-key-policy', '--key-id', created.KeyId, '--policy-name', 'default', '--output', 'json'])).Policy);
    assert.deepEqual(policy.Statement, [
      { Sid: 'Enable IAM User Permissions', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${accountId}:root` }, Action: 'kms:*', Resource: '*' },
    ]);
    assert.equal(await kmsError(['get-key-policy', '--key-id', created.KeyId, '--policy-name', 'other']), 'NotFoundException');
    assert.equal(await kmsError(['describe-key', '--key-id', '00000000-0000-0000-0000-000000000000']), 'NotFoundException');
    assert.equal(await kmsError(['create-key', '--key-spec', 'RSA_2048', '--key-usage', 'SIGN_VERIFY']), 'UnsupportedOperationException');
  });

  test('aliases: create, resolve, update, list, delete', async () => {
    const k1 = (await kms(['create-key'])).KeyMetadata;
    const k2 = (await kms(['create-key'])).KeyMetadata;
    await kms(['create-alias', '--alias-name', 'alias/app', '--target-key-id', k1.KeyId]);
    assert.equal(await kmsError(['create-alias', '--alias-name', 'alias/app', '--target-key-id', k2.KeyId]), 'AlreadyExistsException');
    assert.equal(await kmsError(['create-alias', '--alias-name', 'alias/aws/mine', '--target-key-id', k2.KeyId]), 'InvalidAliasNameException');
    assert.equal((await kms(['describe-key', '--key-id', 'alias/app'])).KeyMetadata.KeyId, k1.KeyId);
    assert.equal((await kms(['describe-key', '--key-id', `arn:aws:kms:${env.AWS_DEFAULT_REGION}:${accountId}:alias/app`])).KeyMetadata.KeyId, k1.KeyId);
    await kms(['update-alias', '--alias-name', 'alias/app', '--target-key-id', k2.Arn]);
    assert.equal((await kms(['describe-key', '--key-id', 'alias/app'])).KeyMetadata.KeyId, k2.KeyId);
    const listed = (await kms(['list-aliases', '--key-id', k2.KeyId])).Aliases;
    assert.deepEqual(
      listed.map((a: any) => [a.AliasName, a.TargetKeyId, a.AliasArn]),
      [['alias/app', k2.KeyId, `arn:aws:kms:${env.AWS_DEFAULT_REGION}:${accountId}:alias/app`]],
    );
    await kms(['delete-alias', '--alias-name', 'alias/app']);
    assert.equal(await kmsError(['describe-key', '--key-id', 'alias/app']), 'NotFoundException');
    assert.equal(await kmsError(['delete-alias', '--alias-name', 'alias/app']), 'NotFoundException');
  });

  test('encrypt, decrypt, generate-data-key, re-encrypt; encryption context is bound', async () => {
    const k1 = (await kms(['create-key'])).KeyMetadata;
    const k2 = (await kms(['create-key'])).KeyMetadata;
    const plainFile = join(work.path, 'plain.txt');
    await writeFile(plainFile, 'the secret marker');
    const enc = await kms(['encrypt', '--key-id', k1.KeyId, '--plaintext', `fileb://${plainFile}`, '--encryption-context', 'purpose=test']);
    assert.equal(enc.KeyId, k1.Arn);
    assert.equal(enc.EncryptionAlgorithm, 'SYMMETRIC_DEFAULT');
    assert.ok(!Buffer.from(enc.CiphertextBlob, 'base64').includes('the secret marker'));
    const blobFile = join(work.path, 'blob.bin');
    await writeFile(blobFile, Buffer.from(enc.CiphertextBlob, 'base64'));

    const dec = await kms(['decrypt', '--ciphertext-blob', `fileb://${blobFile}`, '--encryption-context', 'purpose=test']);
    assert.equal(Buffer.from(dec.Plaintext, 'base64').toString(), 'the secret marker');
    assert.equal(dec.KeyId, k1.Arn);
    assert.equal(await kmsError(['decrypt', '--ciphertext-blob', `fileb://${blobFile}`]), 'InvalidCiphertextException');
    assert.equal(await kmsError(['decrypt', '--ciphertext-blob', `fileb://${blobFile}`, '--encryption-context', 'purpose=test', '--key-id', k2.KeyId]), 'IncorrectKeyException');

    const re = await kms(['re-encrypt', '--ciphertext-blob', `fileb://${blobFile}`, '--source-encryption-context', 'purpose=test', '--destination-key-id', k2.KeyId]);
    assert.equal(re.SourceKeyId, k1.Arn);
    assert.equal(re.KeyId, k2.Arn);
    await writeFile(blobFile, Buffer.from(re.CiphertextBlob, 'base64'));
    assert.equal(Buffer.from((await kms(['decrypt', '--ciphertext-blob', `fileb://${blobFile}`])).Plaintext, 'base64').toString(), 'the secret marker');

    const dk = await kms(['generate-data-key', '--key-id', k1.KeyId, '--key-spec', 'AES_256']);
    assert.equal(Buffer.from(dk.Plaintext, 'base64').length, 32);
    await writeFile(blobFile, Buffer.from(dk.CiphertextBlob, 'base64'));
    assert.equal((await kms(['decrypt', '--ciphertext-blob', `fileb://${blobFile}`])).Plaintext, dk.Plaintext);
    assert.equal(await kmsError(['generate-data-key', '--key-id', k1.KeyId]), 'ValidationException');
  });

  test('generate-data-key-without-plaintext, generate-random, update-key-description, list-key-policies', async () => {
    const k = (await kms(['create-key', '--description', 'before'])).KeyMetadata;
    const dk = await kms(['generate-data-key-without-plaintext', '--key-id', k.KeyId, '--number-of-bytes', '24', '--encryption-context', 'app=x']);
    assert.equal(dk.KeyId, k.Arn);
    assert.equal(dk.Plaintext, undefined);
    const blobFile = join(work.path, 'dk.bin');
    await writeFile(blobFile, Buffer.from(dk.CiphertextBlob, 'base64'));
    assert.equal(Buffer.from((await kms(['decrypt', '--ciphertext-blob', `fileb://${blobFile}`, '--encryption-context', 'app=x'])).Plaintext, 'base64').length, 24);

    const random = await kms(['generate-random', '--number-of-bytes', '48']);
    assert.equal(Buffer.from(random.Plaintext, 'base64').length, 48);
    assert.notEqual((await kms(['generate-random', '--number-of-bytes', '48'])).Plaintext, random.Plaintext);
    assert.equal(await kmsError(['generate-random', '--number-of-bytes', '1025']), 'ValidationException');

    await kms(['update-key-description', '--key-id', k.KeyId, '--description', 'after']);
    assert.equal((await kms(['describe-key', '--key-id', k.KeyId])).KeyMetadata.Description, 'after');
    assert.deepEqual((await kms(['list-key-policies', '--key-id', k.Arn])).PolicyNames, ['default']);

    // What berth does not offer is refused as unsupported, not as an operation that does not exist.
    assert.equal(await kmsError(['create-grant', '--key-id', k.KeyId, '--grantee-principal', `arn:aws:iam::${accountId}:root`, '--operations', 'Decrypt']), 'UnsupportedOperationException');
    assert.equal(await kmsError(['sign', '--key-id', k.KeyId, '--message', 'aGk=', '--signing-algorithm', 'RSASSA_PSS_SHA_256']), 'UnsupportedOperationException');
  });

  test('DryRun (newer than this CLI, sent signed by hand): a request that would succeed answers DryRunOperationException, 412', async () => {
    const url = new URL(b.url);
    const call = async (operation: string, body: Record<string, unknown>) => {
      const headers = { host: url.host, 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `TrentService.${operation}` };
      const signer = new SignatureV4({ service: 'kms', region: env.AWS_DEFAULT_REGION!, credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID!, secretAccessKey: env.AWS_SECRET_ACCESS_KEY! }, sha256: Sha256 });
      const text = JSON.stringify(body);
      const signed = await signer.sign({ method: 'POST', protocol: 'http:', hostname: url.hostname, port: Number(url.port), path: '/', headers, body: text });
      const { host: _host, ...sendable } = signed.headers;
      const res = await fetch(`${b.url}/`, { method: 'POST', headers: sendable, body: text });
      return { status: res.status, body: (await res.json()) as Record<string, string> };
    };
    const key = (await kms(['create-key', '--description', 'dry runs'])).KeyMetadata.KeyId as string;
    const sealed = await call('Encrypt', { KeyId: key, Plaintext: Buffer.from('secret').toString('base64') });
    assert.equal(sealed.status, 200);
    for (const [operation, body] of [
      ['Encrypt', { KeyId: key, Plaintext: Buffer.from('secret').toString('base64'), DryRun: true }],
      ['Decrypt', { CiphertextBlob: sealed.body.CiphertextBlob, DryRun: true }],
      ['GenerateDataKey', { KeyId: key, KeySpec: 'AES_256', DryRun: true }],
      ['ReEncrypt', { CiphertextBlob: sealed.body.CiphertextBlob, DestinationKeyId: key, DryRun: true }],
    ] as const) {
      const res = await call(operation, body);
      assert.equal(res.status, 412, `${operation}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.__type, 'DryRunOperationException');
      assert.equal(res.body.Plaintext, undefined, 'nothing of the result is sent');
    }
    // What would fail fails as it would: a wrong encryption context, a disabled key.
    assert.equal((await call('Decrypt', { CiphertextBlob: sealed.body.CiphertextBlob, EncryptionContext: { a: 'b' }, DryRun: true })).body.__type, 'InvalidCiphertextException');
    await kms(['disable-key', '--key-id', key]);
    assert.equal((await call('Encrypt', { KeyId: key, Plaintext: 'AA==', DryRun: true })).body.__type, 'DisabledException');
    assert.equal((await call('Encrypt', { KeyId: key, Plaintext: 'AA==', DryRun: 'yes' })).body.__type, 'SerializationException');
  });

  test('disable/enable, schedule/cancel deletion, rotation', async () => {
    const key = (await kms(['create-key'])).KeyMetadata;
    const plainFile = join(work.path, 'p2.txt');
    await writeFile(plainFile, 'x');
    const blobFile = join(work.path, 'b2.bin');
    await writeFile(blobFile, Buffer.from((await kms(['encrypt', '--key-id', key.KeyId, '--plaintext', `fileb://${plainFile}`])).CiphertextBlob, 'base64'));

    await kms(['disable-key', '--key-id', key.KeyId]);
    assert.equal((await kms(['describe-key', '--key-id', key.KeyId])).KeyMetadata.KeyState, 'Disabled');
    assert.equal(await kmsError(['encrypt', '--key-id', key.KeyId, '--plaintext', `fileb://${plainFile}`]), 'DisabledException');
    assert.equal(await kmsError(['decrypt', '--ciphertext-blob', `fileb://${blobFile}`]), 'DisabledException');
    await kms(['enable-key', '--key-id', key.KeyId]);
    assert.equal(Buffer.from((await kms(['decrypt', '--ciphertext-blob', `fileb://${blobFile}`])).Plaintext, 'base64').toString(), 'x');

    assert.equal((await kms(['get-key-rotation-status', '--key-id', key.KeyId])).KeyRotationEnabled, false);
    await kms(['enable-key-rotation', '--key-id', key.KeyId]);
    assert.equal((await kms(['get-key-rotation-status', '--key-id', key.KeyId])).KeyRotationEnabled, true);
    await kms(['disable-key-rotation', '--key-id', key.KeyId]);
    assert.equal((await kms(['get-key-rotation-status', '--key-id', key.KeyId])).KeyRotationEnabled, false);

    assert.equal(await kmsError(['schedule-key-deletion', '--key-id', key.KeyId, '--pending-window-in-days', '3']), 'ValidationException');
    const scheduled = await kms(['schedule-key-deletion', '--key-id', key.KeyId, '--pending-window-in-days', '7']);
    assert.equal(scheduled.KeyState, 'PendingDeletion');
    assert.equal(scheduled.PendingWindowInDays, 7);
    assert.ok(Math.abs(new Date(scheduled.DeletionDate).getTime() - (Date.now() + 7 * 86400_000)) < 120_000);
    assert.equal(await kmsError(['decrypt', '--ciphertext-blob', `fileb://${blobFile}`]), 'KMSInvalidStateException');
    assert.equal(await kmsError(['enable-key', '--key-id', key.KeyId]), 'KMSInvalidStateException');
    await kms(['cancel-key-deletion', '--key-id', key.KeyId]);
    assert.equal((await kms(['describe-key', '--key-id', key.KeyId])).KeyMetadata.KeyState, 'Disabled');
    await kms(['enable-key', '--key-id', key.KeyId]);
    assert.equal(Buffer.from((await kms(['decrypt', '--ciphertext-blob', `fileb://${blobFile}`])).Plaintext, 'base64').toString(), 'x');
  });

  test('tags: tag-resource, untag-resource, list-resource-tags', async () => {
    const key = (await kms(['create-key', '--tags', 'TagKey=a,TagValue=1'])).KeyMetadata;
    await kms(['tag-resource', '--key-id', key.KeyId, '--tags', 'TagKey=b,TagValue=2', 'TagKey=a,TagValue=3']);
    assert.deepEqual((await kms(['list-resource-tags', '--key-id', key.KeyId])).Tags, [
      { TagKey: 'a', TagValue: '3' },
      { TagKey: 'b', TagValue: '2' },
    ]);
    await kms(['untag-resource', '--key-id', key.KeyId, '--tag-keys', 'a']);
    assert.deepEqual((await kms(['list-resource-tags', '--key-id', key.KeyId])).Tags, [{ TagKey: 'b', TagValue: '2' }]);
    assert.equal(await kmsError(['tag-resource', '--key-id', key.KeyId, '--tags', 'TagKey=aws:x,TagValue=1']), 'TagException');
  });

  test('authorization: IAM policies count only where the key policy lets them; lockout check', async () => {
    const open = (await kms(['create-key'])).KeyMetadata;
    const closedPolicy = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Sid: 'AdminOnly', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${accountId}:user/admin` }, Action: 'kms:*', Resource: '*' }],
    });
    const closed = (await kms(['create-key', '--policy', closedPolicy])).KeyMetadata;

    // a user whose IAM policy allows kms:DescribeKey and kms:Encrypt everywhere
    await aws(['iam', 'create-user', '--user-name', 'dev']);
    await aws(['iam', 'put-user-policy', '--user-name', 'dev', '--policy-name', 'kms', '--policy-document', JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: ['kms:DescribeKey', 'kms:Encrypt'], Resource: '*' }],
    })]);
    const key = JSON.parse((await aws(['iam', 'create-access-key', '--user-name', 'dev'])).stdout).AccessKey;
    const dev = { AWS_ACCESS_KEY_ID: key.AccessKeyId, AWS_SECRET_ACCESS_KEY: key.SecretAccessKey };

    assert.equal((await kms(['describe-key', '--key-id', open.KeyId], dev)).KeyMetadata.KeyId, open.KeyId, 'default key policy: IAM decides');
    assert.equal(await kmsError(['disable-key', '--key-id', open.KeyId], dev), 'AccessDeniedException', 'IAM does not allow DisableKey');
    assert.equal(await kmsError(['describe-key', '--key-id', closed.KeyId], dev), 'AccessDeniedException', 'the key policy does not let IAM decide');
    assert.equal((await kms(['describe-key', '--key-id', closed.KeyId])).KeyMetadata.KeyId, closed.KeyId, 'the admin is named by the key policy');

    const lockout = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${accountId}:user/dev` }, Action: 'kms:Decrypt', Resource: '*' }],
    });
    assert.equal(await kmsError(['put-key-policy', '--key-id', open.KeyId, '--policy-name', 'default', '--policy', lockout]), 'MalformedPolicyDocumentException');
    assert.equal(await kmsError(['put-key-policy', '--key-id', open.KeyId, '--policy-name', 'default', '--policy', '{"not":"a policy"}']), 'MalformedPolicyDocumentException');
    await kms(['put-key-policy', '--key-id', open.KeyId, '--policy-name', 'default', '--policy', lockout, '--bypass-policy-lockout-safety-check']);
    assert.equal(await kmsError(['describe-key', '--key-id', open.KeyId]), 'AccessDeniedException', 'not even the admin once the key policy leaves it out');
  });
});
