// The ECR API through @aws-sdk/client-ecr: the SDK parses every answer with ECR's model, so a call
// that succeeds with the expected values is also a check of the response shape.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import {
  BatchCheckLayerAvailabilityCommand,
  BatchDeleteImageCommand,
  BatchGetImageCommand,
  CompleteLayerUploadCommand,
  CreateRepositoryCommand,
  DeleteRegistryPolicyCommand,
  DeleteRepositoryCommand,
  DeleteRepositoryPolicyCommand,
  DescribeImagesCommand,
  DescribeRegistryCommand,
  DescribeRepositoriesCommand,
  ECRClient,
  GetAccountSettingCommand,
  GetDownloadUrlForLayerCommand,
  GetRegistryPolicyCommand,
  GetRepositoryPolicyCommand,
  InitiateLayerUploadCommand,
  ListImagesCommand,
  ListTagsForResourceCommand,
  PutAccountSettingCommand,
  PutImageCommand,
  PutImageScanningConfigurationCommand,
  PutImageTagMutabilityCommand,
  PutRegistryPolicyCommand,
  SetRepositoryPolicyCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UploadLayerPartCommand,
  paginateDescribeImages,
  paginateListImages,
  type ImageIdentifier,
} from '@aws-sdk/client-ecr';
import { AWS, awsCliEnv } from '../helpers/aws-cli.js';
import { startBerth, type Berth } from '../helpers/berth.js';
import { readBlob, readLayoutImage } from '../helpers/images.js';
import { MediaType, descriptor, memImage, sha256, type MemImage } from '../helpers/oci.js';
import { run, skopeo, skopeoCreds, tempDir } from '../helpers/tools.js';

/** Runs `p` and returns the error's name and message; fails if it succeeds. */
async function failure(p: Promise<unknown>): Promise<{ name: string; message: string; error: Record<string, unknown> }> {
  try {
    await p;
  } catch (e) {
    const err = e as Error & Record<string, unknown>;
    return { name: err.name, message: err.message, error: err };
  }
  assert.fail('expected the call to fail');
}

describe('ECR API via @aws-sdk/client-ecr', () => {
  let b: Berth;
  let ecr: ECRClient;
  let work: { path: string; remove: () => Promise<void> };

  /** Uploads a blob through InitiateLayerUpload/UploadLayerPart/CompleteLayerUpload in `parts` pieces. */
  async function uploadLayer(repositoryName: string, data: Buffer, parts = 1): Promise<string> {
    const { uploadId, partSize } = await ecr.send(new InitiateLayerUploadCommand({ repositoryName }));
    assert.match(uploadId!, /^[0-9a-f-]{36}$/);
    assert.equal(partSize, 10 * 1024 * 1024);
    const step = Math.ceil(data.length / parts);
    for (let first = 0; first < data.length; first += step) {
      const part = data.subarray(first, first + step);
      const out = await ecr.send(
        new UploadLayerPartCommand({ repositoryName, uploadId, partFirstByte: first, partLastByte: first + part.length - 1, layerPartBlob: part }),
      );
      assert.equal(out.lastByteReceived, first + part.length - 1);
    }
    const digest = sha256(data);
    const done = await ecr.send(new CompleteLayerUploadCommand({ repositoryName, uploadId, layerDigests: [digest] }));
    assert.equal(done.layerDigest, digest);
    return digest;
  }

  async function pushViaApi(repositoryName: string, img: MemImage, imageTag?: string) {
    for (const blob of img.blobs) {
      const avail = await ecr.send(new BatchCheckLayerAvailabilityCommand({ repositoryName, layerDigests: [blob.digest] }));
      if (avail.layers?.[0]?.layerAvailability !== 'AVAILABLE') await uploadLayer(repositoryName, blob.data, 2);
    }
    return ecr.send(new PutImageCommand({ repositoryName, imageManifest: img.manifest.toString('utf8'), imageTag }));
  }

  before(async () => {
    b = await startBerth();
    ecr = b.ecr!;
    work = await tempDir('ecr-sdk');
  });

  after(async () => {
    await b?.destroy();
    await work?.remove();
  });

  test('repositories: create with settings, describe, duplicates and bad names', async () => {
    // The KMS key the repository names must exist: made, and given the alias, with the aws CLI.
    const env = await awsCliEnv(b);
    const kmsCli = async (args: string[]) =>
      JSON.parse(
        (
          await run(AWS, ['--endpoint-url', b.url, '--output', 'json', 'kms', ...args], { env })
        ).stdout || '{}',
      );
    const keyArn = (await kmsCli(['create-key'])).KeyMetadata.Arn as string;
    await kmsCli(['create-alias', '--alias-name', 'alias/berth', '--target-key-id', keyArn]);
    const created = await ecr.send(
      new CreateRepositoryCommand({
        repositoryName: 'sdk/settings',
        imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION',
        imageTagMutabilityExclusionFilters: [{ filterType: 'WILDCARD', filter: 'latest*' }],
        imageScanningConfiguration: { scanOnPush: true },
        encryptionConfiguration: { encryptionType: 'KMS', kmsKey: 'alias/berth' },
        tags: [{ Key: 'team', Value: 'platform' }],
      }),
    );
    const repo = created.repository!;
    assert.equal(repo.repositoryName, 'sdk/settings');
    assert.match(repo.registryId!, /^[0-9]{12}$/);
    assert.equal(repo.repositoryArn, `arn:aws:ecr:us-east-1:${repo.registryId}:repository/sdk/settings`);
    assert.equal(repo.repositoryUri, `${b.host}/sdk/settings`);
    assert.ok(repo.createdAt instanceof Date && Math.abs(repo.createdAt.getTime() - Date.now()) < 60_000);
    assert.equal(repo.imageTagMutability, 'IMMUTABLE_WITH_EXCLUSION');
    assert.deepEqual(repo.imageTagMutabilityExclusionFilters, [{ filterType: 'WILDCARD', filter: 'latest*' }]);
    assert.deepEqual(repo.imageScanningConfiguration, { scanOnPush: true });
    assert.deepEqual(repo.encryptionConfiguration, { encryptionType: 'KMS', kmsKey: keyArn }, 'the key the alias names');

    const plain = (await ecr.send(new CreateRepositoryCommand({ repositoryName: 'sdk/plain' }))).repository!;
    assert.equal(plain.imageTagMutability, 'MUTABLE');
    assert.deepEqual(plain.encryptionConfiguration, { encryptionType: 'AES256' });
    assert.equal(plain.imageTagMutabilityExclusionFilters, undefined);

    const described = await ecr.send(new DescribeRepositoriesCommand({ repositoryNames: ['sdk/settings'] }));
    assert.equal(described.repositories?.length, 1);
    assert.equal(described.repositories![0]!.imageTagMutability, 'IMMUTABLE_WITH_EXCLUSION');

    const dup = await failure(ecr.send(new CreateRepositoryCommand({ repositoryName: 'sdk/plain' })));
    assert.equal(dup.name, 'RepositoryAlreadyExistsException');
    assert.equal(dup.message, `The repository with name 'sdk/plain' already exists in the registry with id '${repo.registryId}'`);

    const upper = await failure(ecr.send(new CreateRepositoryCommand({ repositoryName: 'Sdk/Upper' })));
    assert.equal(upper.name, 'InvalidParameterException');
    assert.equal(
      upper.message,
      "Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must satisfy regular expression '(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*''",
    );
    const missingFilters = await failure(ecr.send(new CreateRepositoryCommand({ repositoryName: 'sdk/x', imageTagMutability: 'MUTABLE_WITH_EXCLUSION' })));
    assert.equal(missingFilters.name, 'InvalidParameterException');
    const badEnum = await failure(ecr.send(new CreateRepositoryCommand({ repositoryName: 'sdk/x', imageTagMutability: 'SOMETIMES' as never })));
    assert.equal(badEnum.name, 'InvalidParameterException');
    const missing = await failure(ecr.send(new DescribeRepositoriesCommand({ repositoryNames: ['sdk/none'] })));
    assert.equal(missing.name, 'RepositoryNotFoundException');
    assert.equal(missing.message, `The repository with name 'sdk/none' does not exist in the registry with id '${repo.registryId}'`);

    const mut = await ecr.send(new PutImageTagMutabilityCommand({ repositoryName: 'sdk/plain', imageTagMutability: 'IMMUTABLE' }));
    assert.equal(mut.imageTagMutability, 'IMMUTABLE');
    const scan = await ecr.send(new PutImageScanningConfigurationCommand({ repositoryName: 'sdk/plain', imageScanningConfiguration: { scanOnPush: true } }));
    assert.deepEqual(scan.imageScanningConfiguration, { scanOnPush: true });
    const after = (await ecr.send(new DescribeRepositoriesCommand({ repositoryNames: ['sdk/plain'] }))).repositories![0]!;
    assert.equal(after.imageTagMutability, 'IMMUTABLE');
    assert.deepEqual(after.imageScanningConfiguration, { scanOnPush: true });
  });

  test('tags, account settings, registry and repository policies', async () => {
    const arn = (await ecr.send(new DescribeRepositoriesCommand({ repositoryNames: ['sdk/settings'] }))).repositories![0]!.repositoryArn!;
    await ecr.send(new TagResourceCommand({ resourceArn: arn, tags: [{ Key: 'env', Value: 'test' }, { Key: 'team', Value: 'infra' }] }));
    let tags = (await ecr.send(new ListTagsForResourceCommand({ resourceArn: arn }))).tags!;
    assert.deepEqual(tags.sort((x, y) => x.Key!.localeCompare(y.Key!)), [{ Key: 'env', Value: 'test' }, { Key: 'team', Value: 'infra' }]);
    await ecr.send(new UntagResourceCommand({ resourceArn: arn, tagKeys: ['team'] }));
    tags = (await ecr.send(new ListTagsForResourceCommand({ resourceArn: arn }))).tags!;
    assert.deepEqual(tags, [{ Key: 'env', Value: 'test' }]);
    const many = Array.from({ length: 51 }, (_, i) => ({ Key: `k${i}`, Value: 'v' }));
    assert.equal((await failure(ecr.send(new TagResourceCommand({ resourceArn: arn, tags: many })))).name, 'TooManyTagsException');
    assert.equal((await failure(ecr.send(new ListTagsForResourceCommand({ resourceArn: arn.replace('sdk/settings', 'sdk/gone') })))).name, 'RepositoryNotFoundException');
    assert.equal((await failure(ecr.send(new ListTagsForResourceCommand({ resourceArn: 'arn:aws:s3:::bucket' })))).name, 'InvalidParameterException');

    assert.deepEqual(await ecr.send(new GetAccountSettingCommand({ name: 'BLOB_MOUNTING' })).then((r) => [r.name, r.value]), ['BLOB_MOUNTING', 'ENABLED']);
    await ecr.send(new PutAccountSettingCommand({ name: 'BLOB_MOUNTING', value: 'DISABLED' }));
    assert.equal((await ecr.send(new GetAccountSettingCommand({ name: 'BLOB_MOUNTING' }))).value, 'DISABLED');
    await ecr.send(new PutAccountSettingCommand({ name: 'BLOB_MOUNTING', value: 'ENABLED' }));
    assert.equal((await failure(ecr.send(new PutAccountSettingCommand({ name: 'BLOB_MOUNTING', value: 'MAYBE' })))).name, 'InvalidParameterException');

    const registry = await ecr.send(new DescribeRegistryCommand({}));
    assert.match(registry.registryId!, /^[0-9]{12}$/);
    assert.deepEqual(registry.replicationConfiguration, { rules: [] });

    const policy = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Sid: 'pull', Effect: 'Allow', Principal: '*', Action: ['ecr:BatchGetImage'] }],
    });
    const noPolicy = await failure(ecr.send(new GetRepositoryPolicyCommand({ repositoryName: 'sdk/settings' })));
    assert.equal(noPolicy.name, 'RepositoryPolicyNotFoundException');
    assert.equal(noPolicy.message, `Repository policy does not exist for the repository with name 'sdk/settings' in the registry with id '${registry.registryId}'`);
    await ecr.send(new SetRepositoryPolicyCommand({ repositoryName: 'sdk/settings', policyText: policy }));
    assert.equal((await ecr.send(new GetRepositoryPolicyCommand({ repositoryName: 'sdk/settings' }))).policyText, policy);
    const bad = await failure(ecr.send(new SetRepositoryPolicyCommand({ repositoryName: 'sdk/settings', policyText: '{"Statement": 3}' })));
    assert.equal(bad.name, 'InvalidParameterException');
    assert.equal(bad.message, "Invalid parameter at 'PolicyText' failed to satisfy constraint: 'Invalid repository policy provided'");
    assert.equal((await ecr.send(new DeleteRepositoryPolicyCommand({ repositoryName: 'sdk/settings' }))).policyText, policy);
    assert.equal((await failure(ecr.send(new DeleteRepositoryPolicyCommand({ repositoryName: 'sdk/settings' })))).name, 'RepositoryPolicyNotFoundException');

    const registryPolicy = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${registry.registryId}:root` }, Action: 'ecr:*', Resource: '*' }],
    });
    assert.equal((await failure(ecr.send(new GetRegistryPolicyCommand({})))).name, 'RegistryPolicyNotFoundException');
    await ecr.send(new PutRegistryPolicyCommand({ policyText: registryPolicy }));
    assert.equal((await ecr.send(new GetRegistryPolicyCommand({}))).policyText, registryPolicy);
    assert.equal((await ecr.send(new DeleteRegistryPolicyCommand({}))).policyText, registryPolicy);
    const gone = await failure(ecr.send(new DeleteRegistryPolicyCommand({})));
    assert.equal(gone.name, 'RegistryPolicyNotFoundException');
    assert.equal(gone.message, `Registry policy does not exist in the registry with id '${registry.registryId}'`);
  });

  test('an image pushed only through the layer API and PutImage pulls with skopeo unchanged', async () => {
    await ecr.send(new CreateRepositoryCommand({ repositoryName: 'sdk/layers' }));
    const big = Buffer.alloc(300_000);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7919) % 251;
    const img = memImage([{ 'data.bin': big }, { 'etc/motd': 'pushed through the ECR layer API\n' }]);
    const put = await pushViaApi('sdk/layers', img, 'v1');
    assert.equal(put.image?.imageId?.imageDigest, img.digest);
    assert.equal(put.image?.imageId?.imageTag, 'v1');
    assert.equal(put.image?.imageManifestMediaType, MediaType.ociManifest);

    const out = join(work.path, 'pulled');
    await skopeo(['copy', '--preserve-digests', '--src-tls-verify=false', ...skopeoCreds('--src-creds', b.password), `docker://${b.host}/sdk/layers:v1`, `oci:${out}:v1`]);
    const pulled = await readLayoutImage(out, 'v1');
    assert.equal(pulled.digest, img.digest);
    assert.deepEqual(pulled.manifest, img.manifest);
    for (const blob of img.blobs) assert.deepEqual(await readBlob(out, blob.digest), blob.data);

    // The download URL serves the layer's bytes; a tampered URL does not.
    const layerDigest = img.blobs[1]!.digest;
    const { downloadUrl } = await ecr.send(new GetDownloadUrlForLayerCommand({ repositoryName: 'sdk/layers', layerDigest }));
    assert.ok(downloadUrl!.startsWith(`${b.url}/layer-downloads/`));
    const res = await fetch(downloadUrl!);
    assert.equal(res.status, 200);
    assert.equal(sha256(Buffer.from(await res.arrayBuffer())), layerDigest);
    const tampered = await fetch(downloadUrl!.slice(0, -3) + (downloadUrl!.endsWith('AAA') ? 'BBB' : 'AAA'));
    assert.equal(tampered.status, 403);
    await tampered.arrayBuffer();
  });

  test('layer API errors: parts, digests, empty and unknown uploads, missing and unreferenced layers', async () => {
    const repositoryName = 'sdk/layers';
    const { uploadId } = await ecr.send(new InitiateLayerUploadCommand({ repositoryName }));
    const empty = await failure(ecr.send(new CompleteLayerUploadCommand({ repositoryName, uploadId, layerDigests: [sha256('x')] })));
    assert.equal(empty.name, 'EmptyUploadException');
    await ecr.send(new UploadLayerPartCommand({ repositoryName, uploadId, partFirstByte: 0, partLastByte: 4, layerPartBlob: Buffer.from('hello') }));
    const gap = await failure(
      ecr.send(new UploadLayerPartCommand({ repositoryName, uploadId, partFirstByte: 10, partLastByte: 14, layerPartBlob: Buffer.from('world') })),
    );
    assert.equal(gap.name, 'InvalidLayerPartException');
    assert.equal(gap.error.lastValidByteReceived, 4);
    assert.equal(gap.error.uploadId, uploadId);
    const wrong = await failure(ecr.send(new CompleteLayerUploadCommand({ repositoryName, uploadId, layerDigests: [sha256('not hello')] })));
    assert.equal(wrong.name, 'InvalidLayerException');

    const existing = memImage([{ a: 'dup' }]).blobs[1]!;
    await uploadLayer(repositoryName, existing.data);
    const again = await ecr.send(new InitiateLayerUploadCommand({ repositoryName }));
    await ecr.send(new UploadLayerPartCommand({ repositoryName, uploadId: again.uploadId, partFirstByte: 0, partLastByte: existing.data.length - 1, layerPartBlob: existing.data }));
    const dup = await failure(ecr.send(new CompleteLayerUploadCommand({ repositoryName, uploadId: again.uploadId, layerDigests: [existing.digest] })));
    assert.equal(dup.name, 'LayerAlreadyExistsException');

    const unknown = await failure(
      ecr.send(new UploadLayerPartCommand({ repositoryName, uploadId: '00000000-0000-4000-8000-000000000000', partFirstByte: 0, partLastByte: 0, layerPartBlob: Buffer.from('x') })),
    );
    assert.equal(unknown.name, 'UploadNotFoundException');

    const missing = await failure(ecr.send(new GetDownloadUrlForLayerCommand({ repositoryName, layerDigest: sha256('nowhere') })));
    assert.equal(missing.name, 'LayersNotFoundException');
    const unreferenced = await failure(ecr.send(new GetDownloadUrlForLayerCommand({ repositoryName, layerDigest: existing.digest })));
    assert.equal(unreferenced.name, 'LayerInaccessibleException');

    const check = await ecr.send(new BatchCheckLayerAvailabilityCommand({ repositoryName, layerDigests: [existing.digest, sha256('nowhere'), 'bogus'] }));
    assert.deepEqual(
      check.layers?.map((l) => [l.layerDigest, l.layerAvailability, l.layerSize]),
      [
        [existing.digest, 'AVAILABLE', existing.data.length],
        [sha256('nowhere'), 'UNAVAILABLE', undefined],
      ],
    );
    assert.equal(check.failures?.[0]?.failureCode, 'InvalidLayerDigest');
  });

  test('images: describe, get, retag, immutability, delete, and lastRecordedPullTime', async () => {
    const repositoryName = 'sdk/images';
    await ecr.send(new CreateRepositoryCommand({ repositoryName, imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION', imageTagMutabilityExclusionFilters: [{ filterType: 'WILDCARD', filter: 'dev*' }] }));
    const img = memImage([{ 'a.txt': 'image one' }, { 'b.txt': Buffer.alloc(5000, 1) }]);
    const pushedAt = Date.now();
    await pushViaApi(repositoryName, img, 'v1');

    const details = (await ecr.send(new DescribeImagesCommand({ repositoryName }))).imageDetails!;
    assert.equal(details.length, 1);
    const d = details[0]!;
    assert.equal(d.imageDigest, img.digest);
    assert.deepEqual(d.imageTags, ['v1']);
    // ECR counts the config with the layers (its CLI example: 2777 + 48315478 = 48318255).
    assert.equal(d.imageSizeInBytes, img.config.length + img.layers.reduce((n, l) => n + l.length, 0));
    assert.ok(Math.abs(d.imagePushedAt!.getTime() - pushedAt) < 10_000);
    assert.equal(d.imageManifestMediaType, MediaType.ociManifest);
    assert.equal(d.artifactMediaType, MediaType.ociConfig);
    assert.equal(d.lastRecordedPullTime, undefined);

    const got = await ecr.send(new BatchGetImageCommand({ repositoryName, imageIds: [{ imageTag: 'v1' }, { imageTag: 'nope' }, {}, { imageDigest: 'sha256:zz' }, { imageTag: 'v1', imageDigest: sha256('other') }] }));
    assert.equal(got.images?.length, 1);
    assert.equal(got.images![0]!.imageManifest, img.manifest.toString('utf8'));
    assert.deepEqual(got.images![0]!.imageId, { imageDigest: img.digest, imageTag: 'v1' });
    assert.deepEqual(got.failures?.map((f) => f.failureCode), ['ImageNotFound', 'MissingDigestAndTag', 'InvalidImageDigest', 'ImageTagDoesNotMatchDigest']);
    assert.equal(got.failures![0]!.failureReason, 'Requested image not found');

    // BatchGetImage is a pull: lastRecordedPullTime appears once the recorder flushes.
    await new Promise((r) => setTimeout(r, 1600));
    const pulled = (await ecr.send(new DescribeImagesCommand({ repositoryName, imageIds: [{ imageDigest: img.digest }] }))).imageDetails![0]!;
    assert.ok(pulled.lastRecordedPullTime instanceof Date && Math.abs(pulled.lastRecordedPullTime.getTime() - Date.now()) < 10_000);

    // Retag through BatchGetImage + PutImage; the same tag again is ImageAlreadyExists.
    const manifest = got.images![0]!.imageManifest!;
    await ecr.send(new PutImageCommand({ repositoryName, imageManifest: manifest, imageTag: 'v1-copy', imageDigest: img.digest }));
    const exists = await failure(ecr.send(new PutImageCommand({ repositoryName, imageManifest: manifest, imageTag: 'v1' })));
    assert.equal(exists.name, 'ImageAlreadyExistsException');
    const wrongDigest = await failure(ecr.send(new PutImageCommand({ repositoryName, imageManifest: manifest, imageTag: 'x', imageDigest: sha256('other') })));
    assert.equal(wrongDigest.name, 'ImageDigestDoesNotMatchException');

    // v1 is immutable, dev* tags are not.
    const other = memImage([{ 'a.txt': 'image two' }]);
    for (const blob of other.blobs) await uploadLayer(repositoryName, blob.data);
    const immutable = await failure(ecr.send(new PutImageCommand({ repositoryName, imageManifest: other.manifest.toString(), imageTag: 'v1' })));
    assert.equal(immutable.name, 'ImageTagAlreadyExistsException');
    await ecr.send(new PutImageCommand({ repositoryName, imageManifest: manifest, imageTag: 'dev-1' }));
    await ecr.send(new PutImageCommand({ repositoryName, imageManifest: other.manifest.toString(), imageTag: 'dev-1' }));

    const noLayers = memImage([{ 'missing.txt': 'never uploaded' }]);
    const layersMissing = await failure(ecr.send(new PutImageCommand({ repositoryName, imageManifest: noLayers.manifest.toString(), imageTag: 'broken' })));
    assert.equal(layersMissing.name, 'LayersNotFoundException');
    const index = JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [descriptor(MediaType.ociManifest, noLayers.manifest)] });
    const refsMissing = await failure(ecr.send(new PutImageCommand({ repositoryName, imageManifest: index, imageTag: 'idx' })));
    assert.equal(refsMissing.name, 'ReferencedImagesNotFoundException');
    const badJson = await failure(ecr.send(new PutImageCommand({ repositoryName, imageManifest: '{not json', imageTag: 'bad' })));
    assert.equal(badJson.name, 'InvalidParameterException');

    const tagged = await ecr.send(new ListImagesCommand({ repositoryName, filter: { tagStatus: 'TAGGED' } }));
    assert.deepEqual(tagged.imageIds?.map((i) => i.imageTag).sort(), ['dev-1', 'v1', 'v1-copy']);

    // Delete one tag of a multi-tagged image, then the image by digest; unknowns are failures.
    const del = await ecr.send(new BatchDeleteImageCommand({ repositoryName, imageIds: [{ imageTag: 'v1-copy' }, { imageTag: 'ghost' }] }));
    assert.deepEqual(del.imageIds, [{ imageDigest: img.digest, imageTag: 'v1-copy' }]);
    assert.equal(del.failures?.[0]?.failureCode, 'ImageNotFound');
    const byDigest = await ecr.send(new BatchDeleteImageCommand({ repositoryName, imageIds: [{ imageDigest: img.digest }] }));
    assert.deepEqual(byDigest.imageIds, [{ imageDigest: img.digest, imageTag: 'v1' }]);
    const notFound = await failure(ecr.send(new DescribeImagesCommand({ repositoryName, imageIds: [{ imageDigest: img.digest }] })));
    assert.equal(notFound.name, 'ImageNotFoundException');

    const notEmpty = await failure(ecr.send(new DeleteRepositoryCommand({ repositoryName })));
    assert.equal(notEmpty.name, 'RepositoryNotEmptyException');
    const deleted = await ecr.send(new DeleteRepositoryCommand({ repositoryName, force: true }));
    assert.equal(deleted.repository?.repositoryName, repositoryName);
    assert.equal((await failure(ecr.send(new ListImagesCommand({ repositoryName })))).name, 'RepositoryNotFoundException');
  });

  test('an index pushed with PutImage: size of its largest child, deletion of a referenced child refused', async () => {
    const repositoryName = 'sdk/index';
    await ecr.send(new CreateRepositoryCommand({ repositoryName }));
    const small = memImage([{ 's.txt': 'small' }]);
    const large = memImage([{ 'l.txt': Buffer.alloc(9000, 2) }]);
    await pushViaApi(repositoryName, small);
    await pushViaApi(repositoryName, large);
    const index = JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.ociIndex,
      manifests: [descriptor(MediaType.ociManifest, small.manifest), descriptor(MediaType.ociManifest, large.manifest)],
    });
    await ecr.send(new PutImageCommand({ repositoryName, imageManifest: index, imageTag: 'multi' }));
    const d = (await ecr.send(new DescribeImagesCommand({ repositoryName, imageIds: [{ imageTag: 'multi' }] }))).imageDetails![0]!;
    assert.equal(d.imageManifestMediaType, MediaType.ociIndex);
    assert.equal(d.imageSizeInBytes, large.config.length + large.layers[0]!.length);
    assert.equal(d.artifactMediaType, undefined);
    const del = await ecr.send(new BatchDeleteImageCommand({ repositoryName, imageIds: [{ imageDigest: small.digest }] }));
    assert.deepEqual(del.imageIds, []);
    assert.equal(del.failures?.[0]?.failureCode, 'ImageReferencedByManifestList');
  });

  test('pagination over hundreds of images with ListImages and DescribeImages', async () => {
    const repositoryName = 'sdk/many';
    await ecr.send(new CreateRepositoryCommand({ repositoryName }));
    const base = memImage([{ 'x.txt': 'shared layer' }]);
    for (const blob of base.blobs) await uploadLayer(repositoryName, blob.data);
    const doc = JSON.parse(base.manifest.toString()) as Record<string, unknown>;
    const count = 260;
    const digests = new Set<string>();
    const pushes: Promise<unknown>[] = [];
    for (let i = 0; i < count; i++) {
      const manifest = JSON.stringify({ ...doc, annotations: { n: String(i) } });
      digests.add(sha256(manifest));
      // Every 4th image stays untagged.
      pushes.push(ecr.send(new PutImageCommand({ repositoryName, imageManifest: manifest, imageTag: i % 4 === 0 ? undefined : `t${i}` })));
      if (pushes.length === 20) await Promise.all(pushes.splice(0));
    }
    await Promise.all(pushes);

    const listed: ImageIdentifier[] = [];
    let pages = 0;
    for await (const p of paginateListImages({ client: ecr, pageSize: 100 }, { repositoryName })) {
      pages++;
      listed.push(...(p.imageIds ?? []));
    }
    assert.equal(pages, 3);
    assert.equal(listed.length, count);
    assert.deepEqual(new Set(listed.map((i) => i.imageDigest)), digests);

    const untagged = await ecr.send(new ListImagesCommand({ repositoryName, filter: { tagStatus: 'UNTAGGED' }, maxResults: 1000 }));
    assert.equal(untagged.imageIds?.length, count / 4);
    assert.ok(untagged.imageIds!.every((i) => i.imageTag === undefined));
    assert.equal(untagged.nextToken, undefined);

    const described = new Set<string>();
    for await (const p of paginateDescribeImages({ client: ecr, pageSize: 70 }, { repositoryName })) {
      assert.ok((p.imageDetails?.length ?? 0) <= 70);
      for (const d of p.imageDetails ?? []) described.add(d.imageDigest!);
    }
    assert.deepEqual(described, digests);

    const range = await failure(ecr.send(new ListImagesCommand({ repositoryName, maxResults: 1001 })));
    assert.equal(range.name, 'InvalidParameterException');
    const token = await failure(ecr.send(new ListImagesCommand({ repositoryName, nextToken: 'garbage' })));
    assert.equal(token.name, 'InvalidParameterException');
    const mixed = await failure(ecr.send(new DescribeImagesCommand({ repositoryName, imageIds: [{ imageTag: 't1' }], maxResults: 5 })));
    assert.equal(mixed.name, 'InvalidParameterException');
  });

  test('DescribeRepositories paginates', async () => {
    for (let i = 0; i < 12; i++) await ecr.send(new CreateRepositoryCommand({ repositoryName: `sdk/page/r${String(i).padStart(2, '0')}` }));
    const names: string[] = [];
    let nextToken: string | undefined;
    do {
      const out = await ecr.send(new DescribeRepositoriesCommand({ maxResults: 5, nextToken }));
      assert.ok(out.repositories!.length <= 5);
      names.push(...out.repositories!.map((r) => r.repositoryName!));
      nextToken = out.nextToken;
    } while (nextToken);
    assert.equal(new Set(names).size, names.length);
    assert.ok(names.filter((n) => n.startsWith('sdk/page/')).length === 12);
  });

  test('raw protocol: unknown operation, malformed JSON, wrong types', async () => {
    const call = async (target: string, body: string) => {
      const res = await fetch(b.url + '/', {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': `AmazonEC2ContainerRegistry_V20150921.${target}` },
        body,
      });
      return { status: res.status, body: (await res.json()) as { __type: string; message: string } };
    };
    // Unsigned requests may be refused by identity; only check that every answer is a 4xx in ECR's shape.
    for (const [target, body] of [
      ['NoSuchOperation', '{}'],
      ['ListImages', '{not json'],
      ['ListImages', '{"repositoryName": 5}'],
      ['CreateRepository', '{"repositoryName": "a"}'],
    ] as const) {
      const r = await call(target, body);
      assert.ok(r.status >= 400 && r.status < 500, `${target} ${body} -> ${r.status}`);
      assert.equal(typeof r.body.__type, 'string');
    }
  });
});
