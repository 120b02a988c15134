// Choosing the blob store: --blob-store / BERTH_BLOB_STORE and the BERTH_S3_* settings.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../src/config.js';

describe('blob store configuration', () => {
  it('blobs stay in the data dir unless an s3:// URL is given', () => {
    assert.deepEqual(loadConfig({}, {}).blobStore, { kind: 'filesystem' });
    assert.deepEqual(loadConfig({}, { BERTH_BLOB_STORE: '' }).blobStore, { kind: 'filesystem' });
  });

  it('s3://bucket/prefix with every BERTH_S3_* setting', () => {
    const c = loadConfig(
      {},
      {
        BERTH_BLOB_STORE: 's3://my-bucket/berth/prod/',
        BERTH_S3_ENDPOINT: 'http://127.0.0.1:7480',
        BERTH_S3_REGION: 'eu-west-3',
        BERTH_S3_FORCE_PATH_STYLE: 'true',
        BERTH_S3_ACCESS_KEY_ID: 'AK',
        BERTH_S3_SECRET_ACCESS_KEY: 'SK',
        BERTH_S3_REDIRECT: 'false',
      },
    );
    assert.deepEqual(c.blobStore, {
      kind: 's3',
      bucket: 'my-bucket',
      prefix: 'berth/prod',
      endpoint: 'http://127.0.0.1:7480',
      region: 'eu-west-3',
      forcePathStyle: true,
      accessKeyId: 'AK',
      secretAccessKey: 'SK',
      redirect: false,
    });
  });

  it('redirected downloads with the object store encrypting at rest (SSE-KMS with its key, or SSE-S3)', () => {
    const kms = loadConfig({}, { BERTH_BLOB_STORE: 's3://bucket', BERTH_S3_REDIRECT: 'true', BERTH_S3_SSE: 'aws:kms', BERTH_S3_SSE_KMS_KEY_ID: 'alias/registry' }).blobStore;
    assert.ok(kms.kind === 's3');
    assert.equal(kms.redirect, true);
    assert.deepEqual(kms.serverSideEncryption, { type: 'aws:kms', kmsKeyId: 'alias/registry' });
    const s3 = loadConfig({}, { BERTH_BLOB_STORE: 's3://bucket', BERTH_S3_SSE: 'AES256' }).blobStore;
    assert.ok(s3.kind === 's3');
    assert.equal(s3.redirect, false);
    assert.deepEqual(s3.serverSideEncryption, { type: 'AES256' });
  });

  it('defaults: the bucket root, AWS S3, the AWS region from the environment, the AWS credential chain, virtual-hosted URLs', () => {
    assert.deepEqual(loadConfig({}, { BERTH_BLOB_STORE: 's3://bucket.with.dots', AWS_REGION: 'ap-south-1' }).blobStore, {
      kind: 's3',
      bucket: 'bucket.with.dots',
      prefix: '',
      endpoint: undefined,
      region: 'ap-south-1',
      forcePathStyle: false,
      accessKeyId: undefined,
      secretAccessKey: undefined,
      redirect: false,
    });
    const c = loadConfig({}, { BERTH_BLOB_STORE: 's3://bucket/' });
    assert.equal(c.blobStore.kind === 's3' && c.blobStore.region, 'us-east-1');
  });

  it('the --blob-store flag wins over the environment', () => {
    const c = loadConfig({ blobStore: 's3://from-flag/p' }, { BERTH_BLOB_STORE: 's3://from-env/q' });
    assert.equal(c.blobStore.kind === 's3' && `${c.blobStore.bucket}/${c.blobStore.prefix}`, 'from-flag/p');
  });

  it('a setting berth cannot honour stops it, naming the setting', () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ BERTH_BLOB_STORE: 'file:///var/lib/berth' }, /BERTH_BLOB_STORE must be s3:\/\/BUCKET/],
      [{ BERTH_BLOB_STORE: 's3://' }, /BERTH_BLOB_STORE/],
      [{ BERTH_BLOB_STORE: 's3://Upper_Case/x' }, /BERTH_BLOB_STORE.*not a valid S3 bucket name/],
      [{ BERTH_BLOB_STORE: 's3://ab' }, /not a valid S3 bucket name/],
      [{ BERTH_BLOB_STORE: 's3://key:secret@bucket/x' }, /BERTH_BLOB_STORE/],
      [{ BERTH_BLOB_STORE: 's3://bucket/a//b' }, /BERTH_BLOB_STORE.*prefix/],
      [{ BERTH_BLOB_STORE: 's3://bucket/a/../b' }, /BERTH_BLOB_STORE.*prefix/],
      [{ BERTH_BLOB_STORE: 's3://bucket?versionId=1' }, /BERTH_BLOB_STORE/],
      [{ BERTH_BLOB_STORE: 's3://bucket', BERTH_S3_ENDPOINT: 'localhost:7480' }, /BERTH_S3_ENDPOINT must be an http/],
      [{ BERTH_BLOB_STORE: 's3://bucket', BERTH_S3_ENDPOINT: 'ftp://host' }, /BERTH_S3_ENDPOINT/],
      [{ BERTH_BLOB_STORE: 's3://bucket', BERTH_S3_REGION: 'Mars 1' }, /BERTH_S3_REGION/],
      [{ BERTH_BLOB_STORE: 's3://bucket', BERTH_S3_FORCE_PATH_STYLE: 'sometimes' }, /BERTH_S3_FORCE_PATH_STYLE must be true or false/],
      [{ BERTH_BLOB_STORE: 's3://bucket', BERTH_S3_ACCESS_KEY_ID: 'AK' }, /BERTH_S3_ACCESS_KEY_ID and BERTH_S3_SECRET_ACCESS_KEY go together/],
      [{ BERTH_BLOB_STORE: 's3://bucket', BERTH_S3_SECRET_ACCESS_KEY: 'SK' }, /go together/],
      [{ BERTH_BLOB_STORE: 's3://bucket', BERTH_S3_REDIRECT: 'maybe' }, /BERTH_S3_REDIRECT must be true or false/],
      [{ BERTH_BLOB_STORE: 's3://bucket', BERTH_S3_REDIRECT: 'true' }, /BERTH_S3_REDIRECT=true needs BERTH_S3_SSE/],
      [{ BERTH_BLOB_STORE: 's3://bucket', BERTH_S3_REDIRECT: 'true', BERTH_S3_SSE: 'aws:kms:foo' }, /BERTH_S3_SSE must be AES256 or aws:kms/],
      [{ BERTH_BLOB_STORE: 's3://bucket', BERTH_S3_SSE: 'AES256', BERTH_S3_SSE_KMS_KEY_ID: 'k' }, /BERTH_S3_SSE_KMS_KEY_ID names the key of BERTH_S3_SSE=aws:kms/],
      [{ BERTH_S3_SSE: 'AES256' }, /BERTH_S3_SSE is set, but blobs are kept in the data dir/],
      [{ BERTH_S3_ENDPOINT: 'http://127.0.0.1:7480' }, /BERTH_S3_ENDPOINT is set, but blobs are kept in the data dir/],
      [{ BERTH_S3_REDIRECT: 'true' }, /BERTH_S3_REDIRECT is set, but blobs are kept in the data dir/],
    ];
    for (const [env, message] of cases) assert.throws(() => loadConfig({}, env), message, JSON.stringify(env));
  });
});
