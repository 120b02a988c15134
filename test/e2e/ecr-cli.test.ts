// The ECR workflow with the aws CLI v2, skopeo and podman: create a repository, log in with
// get-login-password, push, inspect, retag, delete; and the CLI's view of ECR's exceptions.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { AWS, awsCliEnv } from '../helpers/aws-cli.js';
import { startBerth, type Berth } from '../helpers/berth.js';
import { buildImage, type LayoutImage } from '../helpers/images.js';
import { createPodman, run, skopeo, skopeoCreds, tempDir, type Podman } from '../helpers/tools.js';

describe('ECR API via the aws CLI v2', () => {
  let b: Berth;
  let work: { path: string; remove: () => Promise<void> };
  let podman: Podman | undefined;
  let env: Record<string, string>;
  let image: LayoutImage;

  const aws = async (args: string[], check = true) => {
    const res = await run(AWS, ['--endpoint-url', b.url, '--output', 'json', 'ecr', ...args], { env, check: false, timeoutMs: 60_000 });
    if (check && res.code !== 0) assert.fail(`aws ecr ${args.join(' ')} exited ${res.code}: ${res.stderr}\n${b.output().slice(-2000)}`);
    return res;
  };
  const awsJson = async <T = Record<string, any>>(args: string[]): Promise<T> => JSON.parse((await aws(args)).stdout) as T;
  /** Runs a command that must fail, and returns the exception name the CLI printed. */
  const awsError = async (args: string[]): Promise<{ name: string; stderr: string }> => {
    const res = await aws(args, false);
    assert.notEqual(res.code, 0, `aws ecr ${args.join(' ')} should have failed: ${res.stdout}`);
    const m = /An error occurred \((\w+)\)/.exec(res.stderr);
    return { name: m?.[1] ?? res.stderr, stderr: res.stderr };
  };

  before(async () => {
    b = await startBerth();
    work = await tempDir('ecr-cli');
    env = await awsCliEnv(b);
    image = await buildImage({
      layout: join(work.path, 'src'),
      tag: 'v1',
      files: [
        { path: '/etc/motd', content: 'hello from the aws CLI e2e test\n' },
        { path: '/srv/data.bin', content: Buffer.alloc(120_000, 3) },
      ],
    });
  });

  after(async () => {
    await podman?.cleanup();
    await b?.destroy();
    await work?.remove();
  });

  test('create-repository, get-login-password, push with skopeo and podman, inspect, retag, delete', async () => {
    const created = (await awsJson(['create-repository', '--repository-name', 'cli/app', '--image-scanning-configuration', 'scanOnPush=true'])).repository;
    assert.equal(created.repositoryName, 'cli/app');
    assert.equal(created.repositoryUri, `${b.host}/cli/app`);
    assert.match(created.repositoryArn, /^arn:aws:ecr:[a-z0-9-]+:[0-9]{12}:repository\/cli\/app$/);
    assert.deepEqual(created.imageScanningConfiguration, { scanOnPush: true });

    const password = (await aws(['get-login-password'])).stdout.trim();
    assert.ok(password.length > 0 && !password.includes(':'));
    podman = await createPodman();
    await podman.login(b.host, password);

    // skopeo push with the password from get-login-password
    await skopeo(['copy', '--preserve-digests', '--dest-tls-verify=false', ...skopeoCreds('--dest-creds', password), image.ref, `docker://${b.host}/cli/app:v1`]);
    // podman pulls it back and pushes it under another tag
    await podman.cmd(['pull', '--tls-verify=false', `${b.host}/cli/app:v1`]);
    await podman.cmd(['tag', `${b.host}/cli/app:v1`, `${b.host}/cli/app:podman`]);
    await podman.cmd(['push', '--tls-verify=false', '--format', 'oci', `${b.host}/cli/app:podman`]);

    const listed = (await awsJson(['list-images', '--repository-name', 'cli/app'])).imageIds as Array<{ imageDigest: string; imageTag?: string }>;
    const tags = listed.map((i) => i.imageTag).sort();
    assert.deepEqual(tags, ['podman', 'v1']);
    assert.equal(listed.find((i) => i.imageTag === 'v1')?.imageDigest, image.digest);

    const details = (await awsJson(['describe-images', '--repository-name', 'cli/app', '--image-ids', 'imageTag=v1'])).imageDetails;
    assert.equal(details.length, 1);
    const d = details[0];
    assert.equal(d.imageDigest, image.digest);
    assert.ok(d.imageTags.includes('v1'));
    const layout = JSON.parse(image.manifest.toString()) as { config: { size: number }; layers: Array<{ size: number }> };
    assert.equal(d.imageSizeInBytes, layout.config.size + layout.layers.reduce((n, l) => n + l.size, 0));
    assert.ok(Math.abs(Date.parse(d.imagePushedAt) - Date.now()) < 120_000, `imagePushedAt ${d.imagePushedAt}`);
    assert.equal(d.imageManifestMediaType, image.mediaType);

    const got = await awsJson(['batch-get-image', '--repository-name', 'cli/app', '--image-ids', 'imageTag=v1']);
    assert.equal(got.images.length, 1);
    assert.equal(got.images[0].imageManifest, image.manifest.toString('utf8'));
    assert.deepEqual(got.failures, []);

    // Retag: put-image with the manifest batch-get-image returned. umoci writes OCI manifests without
    // a mediaType field, so, as on ECR, the media type must come with --image-manifest-media-type.
    const manifestArgs = ['--image-manifest', got.images[0].imageManifest, '--image-manifest-media-type', image.mediaType];
    const unreadable = await awsError(['put-image', '--repository-name', 'cli/app', '--image-tag', 'v2', '--image-manifest', got.images[0].imageManifest]);
    assert.equal(unreadable.name, 'InvalidParameterException');
    assert.match(unreadable.stderr, /Invalid parameter at 'ImageManifest' failed to satisfy constraint: 'Invalid JSON syntax'/);
    const put = await awsJson(['put-image', '--repository-name', 'cli/app', '--image-tag', 'v2', ...manifestArgs]);
    assert.equal(put.image.imageId.imageDigest, image.digest);
    const retagged = await skopeo(['inspect', '--raw', '--tls-verify=false', ...skopeoCreds('--creds', password), `docker://${b.host}/cli/app:v2`]);
    assert.equal(retagged.stdout, image.manifest.toString('utf8'));
    assert.equal((await awsError(['put-image', '--repository-name', 'cli/app', '--image-tag', 'v2', ...manifestArgs])).name, 'ImageAlreadyExistsException');

    const deleted = await awsJson(['batch-delete-image', '--repository-name', 'cli/app', '--image-ids', 'imageTag=v2']);
    assert.deepEqual(deleted.imageIds, [{ imageDigest: image.digest, imageTag: 'v2' }]);
    assert.deepEqual(deleted.failures, []);

    const refused = await awsError(['delete-repository', '--repository-name', 'cli/app']);
    assert.equal(refused.name, 'RepositoryNotEmptyException');
    assert.match(refused.stderr, /cannot be deleted because it still contains images/);
    const forced = await awsJson(['delete-repository', '--repository-name', 'cli/app', '--force']);
    assert.equal(forced.repository.repositoryName, 'cli/app');
    assert.equal((await awsError(['describe-repositories', '--repository-names', 'cli/app'])).name, 'RepositoryNotFoundException');
  });

  test('the CLI sees ECR exceptions', async () => {
    await awsJson(['create-repository', '--repository-name', 'cli/errors', '--image-tag-mutability', 'IMMUTABLE']);
    const digestA = 'sha256:' + 'a'.repeat(64);
    const cases: Array<[string[], string, RegExp?]> = [
      [['create-repository', '--repository-name', 'cli/errors'], 'RepositoryAlreadyExistsException', /already exists in the registry with id/],
      [['create-repository', '--repository-name', 'Upper'], 'InvalidParameterException', /must satisfy regular expression/],
      [['describe-repositories', '--repository-names', 'cli/none'], 'RepositoryNotFoundException'],
      [['describe-images', '--repository-name', 'cli/errors', '--image-ids', 'imageTag=nope'], 'ImageNotFoundException'],
      [['create-repository', '--repository-name', 'cli/x', '--image-tag-mutability', 'SOMETIMES'], 'InvalidParameterException', /enum value set/],
      [['get-repository-policy', '--repository-name', 'cli/errors'], 'RepositoryPolicyNotFoundException'],
      [['set-repository-policy', '--repository-name', 'cli/errors', '--policy-text', '{"Version":"2012-10-17"}'], 'InvalidParameterException', /Invalid repository policy provided/],
      [['get-registry-policy'], 'RegistryPolicyNotFoundException'],
      [['get-download-url-for-layer', '--repository-name', 'cli/errors', '--layer-digest', digestA], 'LayersNotFoundException'],
      [['complete-layer-upload', '--repository-name', 'cli/errors', '--upload-id', '00000000-0000-4000-8000-000000000000', '--layer-digests', digestA], 'UploadNotFoundException'],
      [['put-image', '--repository-name', 'cli/errors', '--image-tag', 'x', '--image-manifest', '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"' + digestA + '","size":2},"layers":[]}'], 'LayersNotFoundException'],
      [['put-registry-policy', '--policy-text', 'not json'], 'InvalidParameterException', /Invalid registry policy provided/],
    ];
    for (const [args, name, message] of cases) {
      const err = await awsError(args);
      assert.equal(err.name, name, `aws ecr ${args.join(' ')}: ${err.stderr}`);
      if (message) assert.match(err.stderr, message);
    }

    // An immutable tag cannot move; the CLI prints ImageTagAlreadyExistsException.
    const password = (await aws(['get-login-password'])).stdout.trim();
    await skopeo(['copy', '--dest-tls-verify=false', ...skopeoCreds('--dest-creds', password), image.ref, `docker://${b.host}/cli/errors:fixed`]);
    const other = await buildImage({ layout: join(work.path, 'other'), tag: 'v1', files: [{ path: '/etc/other', content: 'other\n' }] });
    await skopeo(['copy', '--dest-tls-verify=false', ...skopeoCreds('--dest-creds', password), other.ref, `docker://${b.host}/cli/errors:other`]);
    const err = await awsError(['put-image', '--repository-name', 'cli/errors', '--image-tag', 'fixed', '--image-manifest', other.manifest.toString('utf8'), '--image-manifest-media-type', other.mediaType]);
    assert.equal(err.name, 'ImageTagAlreadyExistsException');
  });
});
