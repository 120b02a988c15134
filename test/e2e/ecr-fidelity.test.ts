// Where berth's ECR API must answer exactly as Amazon ECR does: the order of an image's tags,
// image ids with both a digest and a tag, PutImage of an image that is already there and its media
// type rules, tagging ARNs, registry policy actions, registryId, input constraints from the model,
// and image indexes in DescribeImages. Driven through @aws-sdk/client-ecr and the aws CLI v2.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BatchCheckLayerAvailabilityCommand,
  BatchDeleteImageCommand,
  BatchGetImageCommand,
  CompleteLayerUploadCommand,
  CreateRepositoryCommand,
  DescribeImagesCommand,
  DescribeRegistryCommand,
  ECRClient,
  GetRegistryPolicyCommand,
  InitiateLayerUploadCommand,
  ListImagesCommand,
  ListTagsForResourceCommand,
  PutImageCommand,
  PutRegistryPolicyCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UploadLayerPartCommand,
} from '@aws-sdk/client-ecr';
import { AWS, awsCliEnv } from '../helpers/aws-cli.js';
import { startBerth, type Berth } from '../helpers/berth.js';
import { MediaType, descriptor, memImage, sha256, type MemImage } from '../helpers/oci.js';
import { run, tempDir } from '../helpers/tools.js';

async function failure(p: Promise<unknown>): Promise<{ name: string; message: string; status?: number }> {
  try {
    await p;
  } catch (e) {
    const err = e as Error & { $metadata?: { httpStatusCode?: number } };
    return { name: err.name, message: err.message, status: err.$metadata?.httpStatusCode };
  }
  assert.fail('expected the call to fail');
}

describe('ECR fidelity', () => {
  let b: Berth;
  let ecr: ECRClient;
  let registryId: string;
  let work: { path: string; remove: () => Promise<void> };
  let cliEnv: Record<string, string>;

  async function uploadLayer(repositoryName: string, data: Buffer): Promise<void> {
    const { uploadId } = await ecr.send(new InitiateLayerUploadCommand({ repositoryName }));
    await ecr.send(new UploadLayerPartCommand({ repositoryName, uploadId, partFirstByte: 0, partLastByte: data.length - 1, layerPartBlob: data }));
    await ecr.send(new CompleteLayerUploadCommand({ repositoryName, uploadId, layerDigests: [sha256(data)] }));
  }

  async function uploadBlobs(repositoryName: string, img: MemImage): Promise<void> {
    for (const blob of img.blobs) {
      const avail = await ecr.send(new BatchCheckLayerAvailabilityCommand({ repositoryName, layerDigests: [blob.digest] }));
      if (avail.layers?.[0]?.layerAvailability !== 'AVAILABLE') await uploadLayer(repositoryName, blob.data);
    }
  }

  async function push(repositoryName: string, img: MemImage, imageTag?: string) {
    await uploadBlobs(repositoryName, img);
    return ecr.send(new PutImageCommand({ repositoryName, imageManifest: img.manifest.toString('utf8'), imageTag }));
  }

  const listed = async (repositoryName: string) => (await ecr.send(new ListImagesCommand({ repositoryName }))).imageIds ?? [];

  before(async () => {
    b = await startBerth();
    ecr = b.ecr!;
    registryId = (await ecr.send(new DescribeRegistryCommand({}))).registryId!;
    work = await tempDir('ecr-fidelity');
    cliEnv = await awsCliEnv(b);
  });

  after(async () => {
    await b?.destroy();
    await work?.remove();
  });

  test('an image lists its tags in the order they were attached, the latest first, on every operation', async () => {
    const repositoryName = 'fid/order';
    await ecr.send(new CreateRepositoryCommand({ repositoryName }));
    const img = memImage([{ 'o.txt': 'order' }]);
    const manifest = img.manifest.toString('utf8');
    await push(repositoryName, img, 'zeta');
    await ecr.send(new PutImageCommand({ repositoryName, imageManifest: manifest, imageTag: 'alpha' }));
    await ecr.send(new PutImageCommand({ repositoryName, imageManifest: manifest, imageTag: 'mid' }));
    const expected = ['mid', 'alpha', 'zeta'];

    const detail = (await ecr.send(new DescribeImagesCommand({ repositoryName }))).imageDetails![0]!;
    assert.deepEqual(detail.imageTags, expected);
    assert.deepEqual(
      (await listed(repositoryName)).map((i) => i.imageTag),
      expected,
    );
    // By digest alone, BatchGetImage answers once per tag, in the same order.
    const got = await ecr.send(new BatchGetImageCommand({ repositoryName, imageIds: [{ imageDigest: img.digest }] }));
    assert.deepEqual(
      got.images!.map((i) => i.imageId),
      expected.map((imageTag) => ({ imageDigest: img.digest, imageTag })),
    );
    assert.ok(got.images!.every((i) => i.imageManifest === manifest));

    // A tag moved away and back is attached anew: it comes first again.
    const other = memImage([{ 'o.txt': 'other' }]);
    await push(repositoryName, other, 'zeta');
    await ecr.send(new PutImageCommand({ repositoryName, imageManifest: manifest, imageTag: 'zeta' }));
    const again = (await ecr.send(new DescribeImagesCommand({ repositoryName, imageIds: [{ imageDigest: img.digest }] }))).imageDetails![0]!;
    assert.deepEqual(again.imageTags, ['zeta', 'mid', 'alpha']);

    // The aws CLI shows the same order.
    const cli = await run(AWS, ['--endpoint-url', b.url, '--output', 'json', 'ecr', 'describe-images', '--repository-name', repositoryName, '--image-ids', `imageDigest=${img.digest}`], {
      env: cliEnv,
      timeoutMs: 60_000,
    });
    assert.deepEqual((JSON.parse(cli.stdout) as { imageDetails: Array<{ imageTags: string[] }> }).imageDetails[0]!.imageTags, ['zeta', 'mid', 'alpha']);
  });

  test('BatchDeleteImage and BatchGetImage with both a digest and a tag', async () => {
    const repositoryName = 'fid/both';
    await ecr.send(new CreateRepositoryCommand({ repositoryName }));
    const img = memImage([{ 'b.txt': 'both' }]);
    const other = memImage([{ 'b.txt': 'other' }]);
    await push(repositoryName, img, 'v1');
    await ecr.send(new PutImageCommand({ repositoryName, imageManifest: img.manifest.toString(), imageTag: 'v2' }));
    await push(repositoryName, other, 'elsewhere');
    const unknownDigest = `sha256:${'a'.repeat(64)}`;
    const before = await listed(repositoryName);

    const attempts = [
      { imageDigest: img.digest, imageTag: 'ghost' },
      { imageDigest: unknownDigest, imageTag: 'v1' },
      { imageDigest: img.digest, imageTag: 'elsewhere' },
      { imageDigest: unknownDigest, imageTag: 'ghost' },
    ];
    const expectedFailures = [
      { imageId: attempts[0], failureCode: 'ImageNotFound', failureReason: 'Requested image not found' },
      { imageId: attempts[1], failureCode: 'ImageTagDoesNotMatchDigest', failureReason: 'Invalid request parameters: given tag does not map to the given digest' },
      { imageId: attempts[2], failureCode: 'ImageTagDoesNotMatchDigest', failureReason: 'Invalid request parameters: given tag does not map to the given digest' },
      { imageId: attempts[3], failureCode: 'ImageNotFound', failureReason: 'Requested image not found' },
    ];
    const got = await ecr.send(new BatchGetImageCommand({ repositoryName, imageIds: attempts }));
    assert.deepEqual(got.images, []);
    assert.deepEqual(got.failures, expectedFailures);
    const refused = await ecr.send(new BatchDeleteImageCommand({ repositoryName, imageIds: attempts }));
    assert.deepEqual(refused.imageIds, []);
    assert.deepEqual(refused.failures, expectedFailures);
    assert.deepEqual(await listed(repositoryName), before, 'failed deletions change nothing');

    // A matching pair removes that tag only; the image keeps its other tag.
    const one = await ecr.send(new BatchDeleteImageCommand({ repositoryName, imageIds: [{ imageDigest: img.digest, imageTag: 'v1' }] }));
    assert.deepEqual(one.imageIds, [{ imageDigest: img.digest, imageTag: 'v1' }]);
    assert.deepEqual(one.failures, []);
    assert.deepEqual(
      (await ecr.send(new DescribeImagesCommand({ repositoryName, imageIds: [{ imageDigest: img.digest }] }))).imageDetails![0]!.imageTags,
      ['v2'],
    );

    // Two ids naming the same image: the second is neither deleted twice nor a failure.
    const twice = await ecr.send(new BatchDeleteImageCommand({ repositoryName, imageIds: [{ imageDigest: img.digest }, { imageTag: 'v2' }, { imageDigest: img.digest }] }));
    assert.deepEqual(twice.imageIds, [{ imageDigest: img.digest, imageTag: 'v2' }]);
    assert.deepEqual(twice.failures, []);
    assert.deepEqual(await listed(repositoryName), [{ imageDigest: other.digest, imageTag: 'elsewhere' }]);
  });

  test('PutImage: an image already there, and how mediaType and imageManifestMediaType combine', async () => {
    const repositoryName = 'fid/put';
    await ecr.send(new CreateRepositoryCommand({ repositoryName }));
    const img = memImage([{ 'p.txt': 'put' }]);
    const manifest = img.manifest.toString('utf8');
    await push(repositoryName, img, 'v1');

    const sameTag = await failure(ecr.send(new PutImageCommand({ repositoryName, imageManifest: manifest, imageTag: 'v1' })));
    assert.equal(sameTag.name, 'ImageAlreadyExistsException');
    assert.equal(sameTag.status, 400);
    assert.equal(
      sameTag.message,
      `Image with digest '${img.digest}' and tag 'v1' already exists in the repository with name '${repositoryName}' in registry with id '${registryId}'`,
    );
    const noTag = await failure(ecr.send(new PutImageCommand({ repositoryName, imageManifest: manifest })));
    assert.equal(noTag.name, 'ImageAlreadyExistsException');
    assert.equal(
      noTag.message,
      `Image with digest '${img.digest}' and tag 'null' already exists in the repository with name '${repositoryName}' in registry with id '${registryId}'`,
    );
    const newTag = await ecr.send(new PutImageCommand({ repositoryName, imageManifest: manifest, imageTag: 'v2' }));
    assert.deepEqual(newTag.image?.imageId, { imageDigest: img.digest, imageTag: 'v2' });

    // Without a mediaType in the manifest, imageManifestMediaType decides; without either, ECR cannot read it.
    const bare = JSON.parse(manifest) as Record<string, unknown>;
    delete bare.mediaType;
    const bareText = JSON.stringify(bare);
    const before = await listed(repositoryName);
    const unreadable = await failure(ecr.send(new PutImageCommand({ repositoryName, imageManifest: bareText, imageTag: 'bare' })));
    assert.equal(unreadable.name, 'InvalidParameterException');
    assert.equal(unreadable.message, "Invalid parameter at 'ImageManifest' failed to satisfy constraint: 'Invalid JSON syntax'");
    const conflicting = await failure(
      ecr.send(new PutImageCommand({ repositoryName, imageManifest: manifest, imageManifestMediaType: MediaType.dockerManifest, imageTag: 'conflict' })),
    );
    assert.equal(conflicting.name, 'InvalidParameterException');
    assert.match(conflicting.message, /^Invalid parameter at 'imageManifestMediaType' failed to satisfy constraint: /);
    const unknownType = await failure(ecr.send(new PutImageCommand({ repositoryName, imageManifest: bareText, imageManifestMediaType: 'text/plain', imageTag: 'odd' })));
    assert.equal(unknownType.name, 'InvalidParameterException');
    assert.match(unknownType.message, /^Invalid parameter at 'imageManifestMediaType' failed to satisfy constraint: /);
    assert.deepEqual(await listed(repositoryName), before, 'refused pushes change nothing');

    const viaParameter = await ecr.send(
      new PutImageCommand({ repositoryName, imageManifest: bareText, imageManifestMediaType: MediaType.ociManifest, imageTag: 'bare' }),
    );
    assert.equal(viaParameter.image?.imageManifestMediaType, MediaType.ociManifest);
    assert.equal(viaParameter.image?.imageId?.imageDigest, sha256(bareText));
    const agreeing = await ecr.send(
      new PutImageCommand({ repositoryName, imageManifest: manifest, imageManifestMediaType: MediaType.ociManifest, imageTag: 'agree' }),
    );
    assert.equal(agreeing.image?.imageManifestMediaType, MediaType.ociManifest);
    const stored = (await ecr.send(new DescribeImagesCommand({ repositoryName, imageIds: [{ imageTag: 'bare' }] }))).imageDetails![0]!;
    assert.equal(stored.imageManifestMediaType, MediaType.ociManifest);

    // The aws CLI reports the same exception and text.
    const cli = await run(
      AWS,
      ['--endpoint-url', b.url, 'ecr', 'put-image', '--repository-name', repositoryName, '--image-tag', 'v1', '--image-manifest', manifest],
      { env: cliEnv, check: false, timeoutMs: 60_000 },
    );
    assert.notEqual(cli.code, 0);
    assert.match(cli.stderr, /An error occurred \(ImageAlreadyExistsException\) when calling the PutImage operation(?: \(reached max retries: \d+\))?: Image with digest '[^']+' and tag 'v1' already exists in the repository with name 'fid\/put' in registry with id '\d{12}'/);
  });

  test('DescribeImages of an image index and a Docker manifest list', async () => {
    const repositoryName = 'fid/index';
    await ecr.send(new CreateRepositoryCommand({ repositoryName }));
    const small = memImage([{ 's.txt': 'small' }]);
    const large = memImage([{ 'l.txt': Buffer.alloc(20_000, 7) }]);
    await push(repositoryName, small);
    await push(repositoryName, large);
    const sizeOf = (img: MemImage) => img.config.length + img.layers.reduce((n, l) => n + l.length, 0);
    const children = [descriptor(MediaType.ociManifest, small.manifest), descriptor(MediaType.ociManifest, large.manifest)];
    const oci = JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: children });
    const docker = JSON.stringify({ schemaVersion: 2, mediaType: MediaType.dockerList, manifests: children });
    await ecr.send(new PutImageCommand({ repositoryName, imageManifest: oci, imageTag: 'oci' }));
    await ecr.send(new PutImageCommand({ repositoryName, imageManifest: docker, imageTag: 'docker' }));

    const details = (await ecr.send(new DescribeImagesCommand({ repositoryName, imageIds: [{ imageTag: 'oci' }, { imageTag: 'docker' }, { imageDigest: small.digest }] })))
      .imageDetails!;
    const [ociDetail, dockerDetail, child] = details;
    assert.equal(ociDetail!.imageManifestMediaType, MediaType.ociIndex);
    // A real describe-images of a manifest list (DataBiosphere/azul#6446) has no artifactMediaType.
    assert.equal(ociDetail!.artifactMediaType, undefined);
    assert.equal(ociDetail!.imageSizeInBytes, Math.max(sizeOf(small), sizeOf(large)));
    assert.equal(dockerDetail!.imageManifestMediaType, MediaType.dockerList);
    assert.equal(dockerDetail!.artifactMediaType, undefined);
    assert.equal(dockerDetail!.imageSizeInBytes, sizeOf(large));
    assert.equal(dockerDetail!.imageStatus, 'ACTIVE');
    assert.equal(child!.imageManifestMediaType, MediaType.ociManifest);
    assert.equal(child!.artifactMediaType, MediaType.ociConfig);
    assert.equal(child!.imageSizeInBytes, sizeOf(small));
    assert.equal(child!.imageTags, undefined);
  });

  test('BatchCheckLayerAvailability reports each blob with the media type its image gives it', async () => {
    const repositoryName = 'fid/layers';
    await ecr.send(new CreateRepositoryCommand({ repositoryName }));
    const img = memImage([{ 'l.txt': 'layer media types' }]);
    const unlisted = Buffer.from('uploaded, in no image yet');
    await push(repositoryName, img, 'v1');
    await uploadLayer(repositoryName, unlisted);
    const check = await ecr.send(new BatchCheckLayerAvailabilityCommand({ repositoryName, layerDigests: [img.blobs[0]!.digest, img.blobs[1]!.digest, sha256(unlisted)] }));
    assert.deepEqual(
      check.layers?.map((l) => [l.layerDigest, l.layerAvailability, l.layerSize, l.mediaType]),
      [
        [img.blobs[0]!.digest, 'AVAILABLE', img.config.length, MediaType.ociConfig],
        [img.blobs[1]!.digest, 'AVAILABLE', img.layers[0]!.length, MediaType.ociLayerTar],
        [sha256(unlisted), 'AVAILABLE', unlisted.length, 'application/vnd.docker.container.image.rootfs.diff.tar.gzip'],
      ],
    );
  });

  test('tagging operations on an ARN of a missing repository and on malformed ARNs', async () => {
    const missingArn = `arn:aws:ecr:us-east-1:${registryId}:repository/fid/none`;
    const notFound = `The repository with name 'fid/none' does not exist in the registry with id '${registryId}'`;
    for (const call of [
      () => ecr.send(new ListTagsForResourceCommand({ resourceArn: missingArn })),
      () => ecr.send(new TagResourceCommand({ resourceArn: missingArn, tags: [{ Key: 'k', Value: 'v' }] })),
      () => ecr.send(new UntagResourceCommand({ resourceArn: missingArn, tagKeys: ['k'] })),
    ]) {
      const f = await failure(call());
      assert.deepEqual([f.name, f.message, f.status], ['RepositoryNotFoundException', notFound, 400]);
    }
    for (const resourceArn of [
      'not-an-arn',
      `arn:aws:ecr:us-east-1:*****:repository/fid/none`,
      `arn:aws:ecr:eu-west-1:${registryId}:repository/fid/none`,
      `arn:aws:s3:::bucket`,
      `arn:aws:ecr:us-east-1:${registryId}:repository/Upper`,
    ]) {
      const f = await failure(ecr.send(new ListTagsForResourceCommand({ resourceArn })));
      assert.deepEqual([f.name, f.message, f.status], ['InvalidParameterException', 'The ARN provided is invalid.', 400], resourceArn);
    }
  });

  test('registry policies grant ECR actions only', async () => {
    const policy = (Action: unknown) =>
      JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${registryId}:root` }, Action, Resource: '*' }] });
    for (const action of ['s3:GetObject', '*', 'ecr:NoSuchAction', ['ecr:ReplicateImage', 'iam:PassRole']]) {
      const f = await failure(ecr.send(new PutRegistryPolicyCommand({ policyText: policy(action) })));
      assert.deepEqual([f.name, f.message], ['InvalidParameterException', "Invalid parameter at 'PolicyText' failed to satisfy constraint: 'Invalid registry policy provided'"], JSON.stringify(action));
    }
    assert.equal((await failure(ecr.send(new GetRegistryPolicyCommand({})))).name, 'RegistryPolicyNotFoundException', 'a refused policy is not stored');
    for (const action of [['ecr:ReplicateImage', 'ecr:CreateRepository'], 'ecr:BatchImportUpstreamImage', 'ecr:Describe*', 'ECR:batchgetimage']) {
      await ecr.send(new PutRegistryPolicyCommand({ policyText: policy(action) }));
      assert.equal((await ecr.send(new GetRegistryPolicyCommand({}))).policyText, policy(action));
    }
  });

  test('registryId: the pattern, the caller’s own id, and another account', async () => {
    const repositoryName = 'fid/registry';
    await ecr.send(new CreateRepositoryCommand({ repositoryName, registryId }));
    assert.deepEqual(await listed(repositoryName), []);
    assert.deepEqual((await ecr.send(new ListImagesCommand({ repositoryName, registryId }))).imageIds, []);
    for (const bad of ['12345', 'abcdefghijkl', '1234567890123']) {
      const f = await failure(ecr.send(new ListImagesCommand({ repositoryName, registryId: bad })));
      assert.deepEqual([f.name, f.message], ['InvalidParameterException', "Invalid parameter at 'registryId' failed to satisfy constraint: 'must satisfy regular expression '[0-9]{12}''"]);
    }
    const foreign = registryId === '999999999999' ? '888888888888' : '999999999999';
    const denied = await failure(ecr.send(new ListImagesCommand({ repositoryName, registryId: foreign })));
    assert.equal(denied.name, 'AccessDeniedException');
    assert.equal(denied.status, 400);
    assert.match(denied.message, new RegExp(`ecr:ListImages on resource: arn:aws:ecr:us-east-1:${foreign}:repository/fid/registry`));
    const createDenied = await failure(ecr.send(new CreateRepositoryCommand({ repositoryName: 'fid/foreign', registryId: foreign })));
    assert.equal(createDenied.name, 'AccessDeniedException');
  });

  test('input constraints from the model are ECR exceptions and change nothing', async () => {
    const repositoryName = 'fid/constraints';
    await ecr.send(new CreateRepositoryCommand({ repositoryName }));
    const img = memImage([{ 'c.txt': 'constraints' }]);
    await push(repositoryName, img, 'v1');
    const before = await listed(repositoryName);
    // Each call starts only when its turn comes: a rejection must never wait unobserved.
    const cases: Array<[() => Promise<unknown>, string]> = [
      [() => ecr.send(new ListImagesCommand({ repositoryName, maxResults: 0 })), "Invalid parameter at 'maxResults' failed to satisfy constraint: 'must be greater than or equal to 1'"],
      [() => ecr.send(new DescribeImagesCommand({ repositoryName, maxResults: 1001 })), "Invalid parameter at 'maxResults' failed to satisfy constraint: 'must be less than or equal to 1000'"],
      [
        () => ecr.send(new DescribeImagesCommand({ repositoryName, filter: { tagStatus: 'SOME' as never } })),
        "Invalid parameter at 'filter.tagStatus' failed to satisfy constraint: 'Member must satisfy enum value set: [TAGGED, UNTAGGED, ANY]'",
      ],
      [
        () => ecr.send(new BatchDeleteImageCommand({ repositoryName, imageIds: [{ imageTag: '' }] })),
        "Invalid parameter at 'imageIds.1.member.imageTag' failed to satisfy constraint: 'must have length greater than or equal to 1'",
      ],
      [
        () => ecr.send(new BatchDeleteImageCommand({ repositoryName, imageIds: [{ imageTag: 'x'.repeat(301) }] })),
        "Invalid parameter at 'imageIds.1.member.imageTag' failed to satisfy constraint: 'must have length less than or equal to 300'",
      ],
      [() => ecr.send(new BatchGetImageCommand({ repositoryName, imageIds: [] })), "Invalid parameter at 'imageIds' failed to satisfy constraint: 'must have length greater than or equal to 1'"],
      [
        () => ecr.send(new BatchCheckLayerAvailabilityCommand({ repositoryName, layerDigests: Array.from({ length: 101 }, () => img.digest) })),
        "Invalid parameter at 'layerDigests' failed to satisfy constraint: 'must have length less than or equal to 100'",
      ],
      [
        () => ecr.send(new PutImageCommand({ repositoryName, imageManifest: img.manifest.toString(), imageTag: 'x'.repeat(301) })),
        "Invalid parameter at 'imageTag' failed to satisfy constraint: 'must have length less than or equal to 300'",
      ],
      [
        () => ecr.send(new UploadLayerPartCommand({ repositoryName, uploadId: 'nope', partFirstByte: 0, partLastByte: 0, layerPartBlob: Buffer.from('x') })),
        "Invalid parameter at 'uploadId' failed to satisfy constraint: 'must satisfy regular expression '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}''",
      ],
      [
        () => ecr.send(new CreateRepositoryCommand({ repositoryName: 'fid/new', imageTagMutability: 'SOMETIMES' as never })),
        "Invalid parameter at 'imageTagMutability' failed to satisfy constraint: 'Member must satisfy enum value set: [MUTABLE, IMMUTABLE, IMMUTABLE_WITH_EXCLUSION, MUTABLE_WITH_EXCLUSION]'",
      ],
    ];
    for (const [call, message] of cases) {
      const f = await failure(call());
      assert.deepEqual([f.name, f.message, f.status], ['InvalidParameterException', message, 400]);
    }
    // Tag keys and values have no limits in the model: ECR checks them itself, with its own exception.
    const longValue = await failure(ecr.send(new CreateRepositoryCommand({ repositoryName: 'fid/new', tags: [{ Key: 'k', Value: 'v'.repeat(257) }] })));
    assert.equal(longValue.name, 'InvalidTagParameterException');
    assert.deepEqual(await listed(repositoryName), before);
    assert.equal((await failure(ecr.send(new ListImagesCommand({ repositoryName: 'fid/new' })))).name, 'RepositoryNotFoundException');
  });
});
