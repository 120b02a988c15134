// ECR Public with the aws CLI v2 (`aws ecr-public …`), podman and skopeo: public repositories with
// catalog data, the registry alias, a push after get-login-password, anonymous pulls, a refused
// anonymous push, a private and a public repository of the same name kept apart, and ECR Public's
// exceptions for bad input.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { cp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as EcrPublicSdk from '@aws-sdk/client-ecr-public';
import { ECRPUBLICClient } from '@aws-sdk/client-ecr-public';
import { AWS, awsCliEnv } from '../helpers/aws-cli.js';
import { startBerth, readAdminCredentials, REPO_ROOT, type Berth } from '../helpers/berth.js';
import { buildImage, type LayoutImage } from '../helpers/images.js';
import { credentialFreeEnv, createPodman, run, skopeo, skopeoCreds, tempDir, type Podman } from '../helpers/tools.js';

/** A 1×1 PNG. */
const LOGO = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');

describe('ECR Public via the aws CLI v2, podman and skopeo', () => {
  let b: Berth;
  let work: { path: string; remove: () => Promise<void> };
  let podman: Podman | undefined;
  let env: Record<string, string>;
  let anonymousEnv: Record<string, string>;
  let image: LayoutImage;
  let other: LayoutImage;
  let alias: string;

  const aws = async (service: 'ecr' | 'ecr-public', args: string[], check = true) => {
    const res = await run(AWS, ['--endpoint-url', b.url, '--output', 'json', service, ...args], { env, check: false, timeoutMs: 60_000 });
    if (check && res.code !== 0) assert.fail(`aws ${service} ${args.join(' ')} exited ${res.code}: ${res.stderr}\n${b.output().slice(-2000)}`);
    return res;
  };
  const pub = async <T = Record<string, any>>(args: string[]): Promise<T> => JSON.parse((await aws('ecr-public', args)).stdout || '{}') as T;
  /** Runs an ecr-public command that must fail; returns the exception name the CLI printed. */
  const pubError = async (args: string[]): Promise<{ name: string; stderr: string }> => {
    const res = await aws('ecr-public', args, false);
    assert.notEqual(res.code, 0, `aws ecr-public ${args.join(' ')} should have failed: ${res.stdout}`);
    const m = /An error occurred \((\w+)\)/.exec(res.stderr);
    return { name: m?.[1] ?? res.stderr, stderr: res.stderr };
  };
  /** skopeo with no credentials at all: an empty auth file, no --creds. */
  const anonymousSkopeo = (args: string[]) => skopeo(args, { env: anonymousEnv, check: false });

  before(async () => {
    b = await startBerth();
    work = await tempDir('ecr-public');
    env = { ...(await awsCliEnv(b)), AWS_DEFAULT_REGION: 'us-east-1' };
    anonymousEnv = await credentialFreeEnv(work.path);
    image = await buildImage({ layout: join(work.path, 'img'), tag: 'v1', files: [{ path: '/etc/motd', content: 'public image\n' }] });
    other = await buildImage({ layout: join(work.path, 'img'), tag: 'private', files: [{ path: '/etc/motd', content: 'private image\n' }] });
  });

  after(async () => {
    await podman?.cleanup();
    await b?.destroy();
    await work?.remove();
  });

  test('create-repository with catalog data; the registry gets its default alias', async () => {
    const catalog = { description: 'A public test image', architectures: ['x86-64', 'ARM 64'], operatingSystems: ['Linux'], aboutText: '# About', usageText: 'podman pull it' };
    const created = await pub(['create-repository', '--repository-name', 'team/web', '--catalog-data', JSON.stringify(catalog), '--tags', 'Key=env,Value=test']);
    const registries = (await pub(['describe-registries'])).registries as Array<Record<string, any>>;
    assert.equal(registries.length, 1);
    const registry = registries[0]!;
    const accountId = created.repository.registryId as string;
    assert.match(accountId, /^[0-9]{12}$/);
    assert.equal(registry.registryId, accountId);
    assert.equal(registry.registryArn, `arn:aws:ecr-public::${accountId}:registry/${accountId}`);
    assert.equal(registry.verified, false);
    assert.equal(registry.aliases.length, 1);
    alias = registry.aliases[0].name;
    assert.match(alias, /^[a-z][0-9][a-z][0-9][a-z][0-9][a-z][0-9]$/);
    assert.deepEqual(registry.aliases[0], { name: alias, status: 'ACTIVE', primaryRegistryAlias: true, defaultRegistryAlias: true });
    assert.equal(registry.registryUri, `${b.host}/ecr--public/${alias}`);

    assert.deepEqual(created.repository, {
      repositoryArn: `arn:aws:ecr-public::${accountId}:repository/team/web`,
      registryId: accountId,
      repositoryName: 'team/web',
      repositoryUri: `${b.host}/ecr--public/${alias}/team/web`,
      createdAt: created.repository.createdAt,
    });
    assert.deepEqual(created.catalogData, catalog);
    assert.deepEqual((await pub(['get-repository-catalog-data', '--repository-name', 'team/web'])).catalogData, catalog);
    const plain = await pub(['create-repository', '--repository-name', 'plain']);
    assert.deepEqual(plain.catalogData, {});

    const described = (await pub(['describe-repositories'])).repositories as Array<Record<string, any>>;
    assert.deepEqual(described.map((r) => r.repositoryName), ['plain', 'team/web']);
    const tags = await pub(['list-tags-for-resource', '--resource-arn', created.repository.repositoryArn]);
    assert.deepEqual(tags.tags, [{ Key: 'env', Value: 'test' }]);
  });

  test('catalog data with a logo; registry catalog data; policies and tags', async () => {
    const data = { description: 'with a logo', logoImageBlob: LOGO.toString('base64') };
    const put = (await pub(['put-repository-catalog-data', '--repository-name', 'plain', '--catalog-data', JSON.stringify(data)])).catalogData;
    assert.equal(put.description, 'with a logo');
    assert.match(put.logoUrl, new RegExp(`^${b.url}/ecr-public/logos/${alias}/plain\\?v=[0-9a-f]+$`));
    const logo = await fetch(put.logoUrl);
    assert.equal(logo.status, 200);
    assert.equal(logo.headers.get('content-type'), 'image/png');
    assert.deepEqual(Buffer.from(await logo.arrayBuffer()), LOGO);
    assert.equal((await fetch(`${b.url}/ecr-public/logos/${alias}/team/web`)).status, 404);
    assert.equal((await fetch(`${b.url}/ecr-public/logos/${alias}/%E0%A4%A`)).status, 404);

    assert.deepEqual(await pub(['get-registry-catalog-data']), { registryCatalogData: {} });
    assert.deepEqual(await pub(['put-registry-catalog-data', '--display-name', 'Berth Test']), { registryCatalogData: { displayName: 'Berth Test' } });
    assert.deepEqual(await pub(['get-registry-catalog-data']), { registryCatalogData: { displayName: 'Berth Test' } });

    const policy = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Sid: 'Push', Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::111122223333:root' }, Action: ['ecr-public:PutImage'] }],
    });
    const set = await pub(['set-repository-policy', '--repository-name', 'plain', '--policy-text', policy]);
    assert.equal(set.policyText, policy);
    assert.equal((await pub(['get-repository-policy', '--repository-name', 'plain'])).policyText, policy);
    assert.equal((await pub(['delete-repository-policy', '--repository-name', 'plain'])).policyText, policy);
    assert.equal((await pubError(['get-repository-policy', '--repository-name', 'plain'])).name, 'RepositoryPolicyNotFoundException');

    const arn = (await pub(['describe-repositories', '--repository-names', 'plain'])).repositories[0].repositoryArn;
    await pub(['tag-resource', '--resource-arn', arn, '--tags', 'Key=a,Value=1', 'Key=b,Value=2']);
    await pub(['untag-resource', '--resource-arn', arn, '--tag-keys', 'a']);
    assert.deepEqual((await pub(['list-tags-for-resource', '--resource-arn', arn])).tags, [{ Key: 'b', Value: '2' }]);
  });

  test('get-login-password, podman push; anonymous pulls with skopeo and podman; anonymous push refused', async () => {
    const uri = (await pub(['describe-repositories', '--repository-names', 'team/web'])).repositories[0].repositoryUri as string;
    const password = (await aws('ecr-public', ['get-login-password'])).stdout.trim();
    assert.ok(password.length > 0 && !password.includes(':'));
    podman = await createPodman();
    await podman.login(b.host, password);
    // podman names an image pulled from a layout after its path, which must be lowercase.
    const layout = join(tmpdir(), `berth-public-${randomBytes(6).toString('hex')}`);
    await cp(image.layout, layout, { recursive: true });
    await podman.cmd(['pull', `oci:${layout}:v1`]).finally(() => rm(layout, { recursive: true, force: true }));
    const local = (await podman.cmd(['images', '--format', '{{.ID}}'])).stdout.trim().split('\n')[0]!;
    await podman.cmd(['tag', local, `${uri}:v1`]);
    await podman.cmd(['push', '--tls-verify=false', `${uri}:v1`]);

    const tags = (await pub(['describe-image-tags', '--repository-name', 'team/web'])).imageTagDetails as Array<Record<string, any>>;
    assert.equal(tags.length, 1);
    assert.equal(tags[0]!.imageTag, 'v1');
    assert.match(tags[0]!.imageDetail.imageDigest, /^sha256:[0-9a-f]{64}$/);
    assert.ok(tags[0]!.imageDetail.imageSizeInBytes > 0);
    const images = (await pub(['describe-images', '--repository-name', 'team/web'])).imageDetails as Array<Record<string, any>>;
    assert.equal(images.length, 1);
    assert.deepEqual(images[0]!.imageTags, ['v1']);
    assert.equal(images[0]!.imageDigest, tags[0]!.imageDetail.imageDigest);

    // Anonymous: no credentials anywhere.
    const inspected = await anonymousSkopeo(['inspect', '--raw', '--tls-verify=false', `docker://${uri}:v1`]);
    assert.equal(inspected.code, 0, inspected.stderr);
    const copied = await anonymousSkopeo(['copy', '--src-tls-verify=false', `docker://${uri}:v1`, `oci:${join(work.path, 'pulled')}:v1`]);
    assert.equal(copied.code, 0, copied.stderr);
    const fresh = await createPodman();
    try {
      const pulled = await fresh.cmd(['pull', '--tls-verify=false', `${uri}:v1`], { check: false });
      assert.equal(pulled.code, 0, pulled.stderr);
    } finally {
      await fresh.cleanup();
    }
    const anonymousPush = await anonymousSkopeo(['copy', '--dest-tls-verify=false', `oci:${image.layout}:v1`, `docker://${uri}:anon`]);
    assert.notEqual(anonymousPush.code, 0, 'an anonymous push to a public repository succeeded');
    assert.match(anonymousPush.stderr, /unauthorized|authentication required/i);
    const after = (await pub(['describe-image-tags', '--repository-name', 'team/web'])).imageTagDetails as Array<Record<string, any>>;
    assert.deepEqual(after.map((t) => t.imageTag), ['v1']);
  });

  test('a private and a public repository of the same name stay apart', async () => {
    const privateRepo = JSON.parse((await aws('ecr', ['create-repository', '--repository-name', 'same'])).stdout).repository;
    const publicRepo = (await pub(['create-repository', '--repository-name', 'same'])).repository;
    assert.notEqual(privateRepo.repositoryUri, publicRepo.repositoryUri);
    assert.notEqual(privateRepo.repositoryArn, publicRepo.repositoryArn);
    const password = (await aws('ecr', ['get-login-password'])).stdout.trim();
    await skopeo(['copy', '--dest-tls-verify=false', ...skopeoCreds('--dest-creds', password), other.ref, `docker://${privateRepo.repositoryUri}:v1`]);
    await skopeo(['copy', '--dest-tls-verify=false', ...skopeoCreds('--dest-creds', password), image.ref, `docker://${publicRepo.repositoryUri}:v1`]);

    const privateManifest = await skopeo(['inspect', '--raw', '--tls-verify=false', ...skopeoCreds('--creds', password), `docker://${privateRepo.repositoryUri}:v1`]);
    assert.equal(privateManifest.stdout.trim(), other.manifest.toString('utf8').trim());
    const publicManifest = await anonymousSkopeo(['inspect', '--raw', '--tls-verify=false', `docker://${publicRepo.repositoryUri}:v1`]);
    assert.equal(publicManifest.stdout.trim(), image.manifest.toString('utf8').trim());
    assert.notEqual((await anonymousSkopeo(['inspect', '--raw', '--tls-verify=false', `docker://${privateRepo.repositoryUri}:v1`])).code, 0, 'the private one is not public');

    // Each API sees only its own kind of repository.
    const privateNames = JSON.parse((await aws('ecr', ['describe-repositories'])).stdout).repositories.map((r: any) => r.repositoryName);
    assert.deepEqual(privateNames, ['same']);
    const publicNames = (await pub(['describe-repositories'])).repositories.map((r: any) => r.repositoryName);
    assert.deepEqual(publicNames, ['plain', 'same', 'team/web']);
    const privateImages = JSON.parse((await aws('ecr', ['describe-images', '--repository-name', 'same'])).stdout).imageDetails;
    const publicImages = (await pub(['describe-images', '--repository-name', 'same'])).imageDetails;
    assert.equal(privateImages[0].imageDigest, other.digest);
    assert.equal(publicImages[0].imageDigest, image.digest);
    // Deleting one leaves the other.
    await aws('ecr', ['delete-repository', '--repository-name', 'same', '--force']);
    assert.equal((await pub(['describe-images', '--repository-name', 'same'])).imageDetails.length, 1);
    assert.equal((await pubError(['delete-repository', '--repository-name', 'same'])).name, 'RepositoryNotEmptyException');
    await pub(['batch-delete-image', '--repository-name', 'same', '--image-ids', 'imageTag=v1']);
    await pub(['delete-repository', '--repository-name', 'same']);
    assert.equal((await pubError(['describe-repositories', '--repository-names', 'same'])).name, 'RepositoryNotFoundException');
  });

  test('bad input gets ECR Public exceptions and changes nothing', async () => {
    const bad = await pubError(['create-repository', '--repository-name', 'Upper']);
    assert.equal(bad.name, 'InvalidParameterException');
    assert.match(bad.stderr, /repositoryName/);
    assert.equal((await pubError(['create-repository', '--repository-name', 'x'.repeat(206)])).name, 'InvalidParameterException');
    assert.equal((await pubError(['create-repository', '--repository-name', 'team/web'])).name, 'RepositoryAlreadyExistsException');
    assert.equal((await pubError(['describe-repositories', '--repository-names', 'ghost'])).name, 'RepositoryNotFoundException');
    assert.equal((await pubError(['describe-images', '--repository-name', 'team/web', '--image-ids', 'imageTag=nope'])).name, 'ImageNotFoundException');
    assert.equal((await pubError(['put-repository-catalog-data', '--repository-name', 'team/web', '--catalog-data', JSON.stringify({ description: 'd'.repeat(1025) })])).name, 'InvalidParameterException');
    assert.equal((await pub(['get-repository-catalog-data', '--repository-name', 'team/web'])).catalogData.description, 'A public test image');
    assert.equal((await pubError(['create-repository', '--repository-name', 'tagged', '--tags', 'Key=aws:x,Value=1'])).name, 'InvalidTagParameterException');
    assert.equal((await pubError(['describe-repositories', '--repository-names', 'tagged'])).name, 'RepositoryNotFoundException');
    assert.equal((await pubError(['list-tags-for-resource', '--resource-arn', 'arn:aws:ecr:us-east-1:123456789012:repository/team/web'])).name, 'InvalidParameterException');
    assert.equal((await pubError(['initiate-layer-upload', '--registry-id', 'nosuchalias', '--repository-name', 'team/web'])).name, 'RegistryNotFoundException');
    assert.equal((await pubError(['set-repository-policy', '--repository-name', 'team/web', '--policy-text', '{"Statement":'])).name, 'InvalidParameterException');
    assert.equal((await pubError(['get-repository-policy', '--repository-name', 'team/web'])).name, 'RepositoryPolicyNotFoundException');
    // A private ECR operation does not see public repositories.
    const res = await aws('ecr', ['describe-repositories', '--repository-names', 'team/web'], false);
    assert.match(res.stderr, /RepositoryNotFoundException/);
  });

  test('the layer API with an alias as registryId, and every operation of the model answers', async () => {
    const layer = Buffer.from('a layer pushed through the ECR Public API');
    const digest = `sha256:${createHash('sha256').update(layer).digest('hex')}`;
    const { uploadId } = await pub(['initiate-layer-upload', '--registry-id', alias, '--repository-name', 'plain']);
    const blobFile = join(work.path, 'part.bin');
    await writeFile(blobFile, layer);
    const part = await pub(['upload-layer-part', '--registry-id', alias, '--repository-name', 'plain', '--upload-id', uploadId, '--part-first-byte', '0', '--part-last-byte', String(layer.length - 1), '--layer-part-blob', `fileb://${blobFile}`]);
    assert.equal(part.lastByteReceived, layer.length - 1);
    const done = await pub(['complete-layer-upload', '--repository-name', 'plain', '--upload-id', uploadId, '--layer-digests', digest]);
    assert.equal(done.layerDigest, digest);
    const check = await pub(['batch-check-layer-availability', '--repository-name', 'plain', '--layer-digests', digest, 'sha256:' + '0'.repeat(64)]);
    assert.deepEqual(check.layers.map((l: any) => l.layerAvailability), ['AVAILABLE', 'UNAVAILABLE']);
    // A manifest over that layer, put with PutImage, described, then deleted with BatchDeleteImage.
    const config = Buffer.from('{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}');
    const configDigest = `sha256:${createHash('sha256').update(config).digest('hex')}`;
    const configUpload = (await pub(['initiate-layer-upload', '--repository-name', 'plain'])).uploadId;
    await writeFile(blobFile, config);
    await pub(['upload-layer-part', '--repository-name', 'plain', '--upload-id', configUpload, '--part-first-byte', '0', '--part-last-byte', String(config.length - 1), '--layer-part-blob', `fileb://${blobFile}`]);
    await pub(['complete-layer-upload', '--repository-name', 'plain', '--upload-id', configUpload, '--layer-digests', configDigest]);
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest, size: layer.length }],
    });
    const put = (await pub(['put-image', '--repository-name', 'plain', '--image-tag', 'api', '--image-manifest', manifest])).image;
    const manifestDigest = `sha256:${createHash('sha256').update(manifest).digest('hex')}`;
    assert.deepEqual(put.imageId, { imageDigest: manifestDigest, imageTag: 'api' });
    assert.equal(put.imageManifestMediaType, 'application/vnd.oci.image.manifest.v1+json');
    const detail = (await pub(['describe-images', '--repository-name', 'plain', '--image-ids', 'imageTag=api'])).imageDetails[0];
    assert.equal(detail.imageDigest, manifestDigest);
    assert.equal(detail.artifactMediaType, 'application/vnd.oci.image.config.v1+json');
    const anonymous = await fetch(`${b.url}/v2/ecr--public/${alias}/plain/manifests/api`, { headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' } });
    assert.equal(anonymous.status, 200);
    assert.equal(await anonymous.text(), manifest);
    const missing = (await pubError(['put-image', '--repository-name', 'plain', '--image-tag', 'broken', '--image-manifest', manifest.replace(digest, 'sha256:' + '1'.repeat(64))])).name;
    assert.equal(missing, 'LayersNotFoundException');
    const deleted = await pub(['batch-delete-image', '--repository-name', 'plain', '--image-ids', 'imageTag=api', 'imageTag=never']);
    assert.deepEqual(deleted.imageIds, [{ imageDigest: manifestDigest, imageTag: 'api' }]);
    assert.equal(deleted.failures[0].failureCode, 'ImageNotFound');

    const token = await pub(['get-authorization-token']);
    assert.ok(Buffer.from(token.authorizationData.authorizationToken, 'base64').toString().startsWith('AWS:'));

    const creds = await readAdminCredentials(b.dataDir);
    const client = new ECRPUBLICClient({ endpoint: b.url, region: 'us-east-1', credentials: { accessKeyId: creds!.accessKeyId, secretAccessKey: creds!.secretAccessKey }, maxAttempts: 1 });
    const model = JSON.parse(readFileSync(join(REPO_ROOT, 'node_modules/@aws-sdk/client-ecr-public/package.json'), 'utf8')) as { version: string };
    const commands = Object.entries(EcrPublicSdk).filter(([name, value]) => name.endsWith('Command') && name !== 'Command' && name !== '$Command' && typeof value === 'function');
    assert.ok(commands.length >= 23, `only ${commands.length} commands in @aws-sdk/client-ecr-public ${model.version}`);
    // An empty input: the operations without required members answer; the others refuse it with
    // InvalidParameterException and a 400, never UnknownOperationException.
    const answered: string[] = [];
    for (const [name, Command] of commands) {
      try {
        await client.send(new (Command as new (input: object) => any)({}));
        answered.push(name);
      } catch (err) {
        const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
        assert.notEqual(e.name, 'UnknownOperationException', `${name} is unknown to berth`);
        assert.equal(e.name, 'InvalidParameterException', `${name} answered ${e.$metadata?.httpStatusCode} ${e.name}`);
        assert.equal(e.$metadata?.httpStatusCode, 400);
      }
    }
    assert.deepEqual(answered.sort(), [
      'DescribeRegistriesCommand',
      'DescribeRepositoriesCommand',
      'GetAuthorizationTokenCommand',
      'GetRegistryCatalogDataCommand',
      'PutRegistryCatalogDataCommand',
    ]);
    client.destroy();
  });

  test('layer uploads are refused as ECR Public does: no parts, a part out of place, bytes not matching the digest, a layer already there', async () => {
    const layer = Buffer.from('a layer refused in every way the layer API refuses one');
    const digest = `sha256:${createHash('sha256').update(layer).digest('hex')}`;
    const file = join(work.path, 'refused.bin');
    await writeFile(file, layer);
    const start = async () => (await pub(['initiate-layer-upload', '--repository-name', 'plain'])).uploadId as string;
    const part = (uploadId: string, first: number) =>
      ['upload-layer-part', '--repository-name', 'plain', '--upload-id', uploadId, '--part-first-byte', String(first), '--part-last-byte', String(first + layer.length - 1), '--layer-part-blob', `fileb://${file}`];
    const complete = (uploadId: string, layerDigest: string) => ['complete-layer-upload', '--repository-name', 'plain', '--upload-id', uploadId, '--layer-digests', layerDigest];

    const refused = await start();
    assert.equal((await pubError(complete(refused, digest))).name, 'EmptyUploadException');
    assert.equal((await pubError(part(refused, 5))).name, 'InvalidLayerPartException');
    assert.equal((await pub(part(refused, 0))).lastByteReceived, layer.length - 1);
    assert.equal((await pubError(complete(refused, `sha256:${'2'.repeat(64)}`))).name, 'InvalidLayerException');

    const accepted = await start();
    await pub(part(accepted, 0));
    assert.equal((await pub(complete(accepted, digest))).layerDigest, digest);
    const again = await start();
    await pub(part(again, 0));
    const exists = await pubError(complete(again, digest));
    assert.equal(exists.name, 'LayerAlreadyExistsException');
    const { registryId } = (await pub(['describe-registries'])).registries[0];
    assert.match(exists.stderr, new RegExp(`in the registry with id '${registryId}'`), 'named by its account, not the public namespace');
  });

  test('IAM: ecr-public actions decide; a user with the ReadOnly managed policy reads but cannot write', async () => {
    const iam = async (args: string[]) => JSON.parse((await run(AWS, ['--endpoint-url', b.url, '--output', 'json', 'iam', ...args], { env, timeoutMs: 60_000 })).stdout || '{}');
    await iam(['create-user', '--user-name', 'public-reader']);
    await iam(['attach-user-policy', '--user-name', 'public-reader', '--policy-arn', 'arn:aws:iam::aws:policy/AmazonElasticContainerRegistryPublicReadOnly']);
    const key = (await iam(['create-access-key', '--user-name', 'public-reader'])).AccessKey;
    const reader = new ECRPUBLICClient({ endpoint: b.url, region: 'us-east-1', credentials: { accessKeyId: key.AccessKeyId, secretAccessKey: key.SecretAccessKey }, maxAttempts: 1 });
    try {
      const repos = await reader.send(new EcrPublicSdk.DescribeRepositoriesCommand({}));
      assert.ok(repos.repositories?.some((r) => r.repositoryName === 'team/web'));
      const token = await reader.send(new EcrPublicSdk.GetAuthorizationTokenCommand({}));
      assert.ok(token.authorizationData?.authorizationToken);
      await assert.rejects(reader.send(new EcrPublicSdk.CreateRepositoryCommand({ repositoryName: 'by-reader' })), (e: any) => {
        assert.equal(e.name, 'AccessDeniedException');
        assert.equal(e.$metadata.httpStatusCode, 400);
        assert.match(e.message, /not authorized to perform: ecr-public:CreateRepository/);
        return true;
      });
      await assert.rejects(reader.send(new EcrPublicSdk.DescribeRepositoriesCommand({ repositoryNames: ['by-reader'] })), { name: 'RepositoryNotFoundException' });
    } finally {
      reader.destroy();
    }
  });
});
