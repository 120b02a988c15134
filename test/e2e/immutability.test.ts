// Tag immutability on /v2 pushes with a real client: skopeo cannot move an immutable tag (TAG_INVALID with
// ECR's message) but may move tags an exclusion filter leaves mutable.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { CreateRepositoryCommand } from '@aws-sdk/client-ecr';
import { startBerth, type Berth } from '../helpers/berth.js';
import { buildImage, type LayoutImage } from '../helpers/images.js';
import { getManifest } from '../helpers/oci.js';
import { skopeo, skopeoCreds, tempDir } from '../helpers/tools.js';

describe('tag immutability through skopeo', () => {
  let b: Berth;
  let work: { path: string; remove: () => Promise<void> };
  let one: LayoutImage;
  let two: LayoutImage;

  const push = (img: LayoutImage, repo: string, tag: string) =>
    skopeo(['copy', '--dest-tls-verify=false', ...skopeoCreds('--dest-creds', b.password), img.ref, `docker://${b.host}/${repo}:${tag}`], { check: false });
  const digestOf = async (repo: string, tag: string) => (await getManifest(b, repo, tag, 'HEAD')).headers.get('docker-content-digest');

  before(async () => {
    b = await startBerth();
    work = await tempDir('immutability');
    const layout = join(work.path, 'layout');
    one = await buildImage({ layout, tag: 'one', files: [{ path: '/one.txt', content: 'one' }] });
    two = await buildImage({ layout, tag: 'two', files: [{ path: '/two.txt', content: 'two' }] });
  });

  after(async () => {
    await b?.destroy();
    await work?.remove();
  });

  test('IMMUTABLE_WITH_EXCLUSION: release tags are fixed, dev* tags move', async () => {
    const repo = 'immut/excl';
    await b.ecr!.send(
      new CreateRepositoryCommand({
        repositoryName: repo,
        imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION',
        imageTagMutabilityExclusionFilters: [{ filterType: 'WILDCARD', filter: 'dev*' }],
      }),
    );
    assert.equal((await push(one, repo, 'v1')).code, 0);
    assert.equal((await push(one, repo, 'dev-latest')).code, 0);

    const refused = await push(two, repo, 'v1');
    assert.notEqual(refused.code, 0, 'moving an immutable tag must fail');
    assert.match(refused.stderr, /TAG_INVALID|cannot be overwritten because the tag is immutable/);
    assert.equal(await digestOf(repo, 'v1'), one.digest, 'v1 still names the first image');

    assert.equal((await push(two, repo, 'dev-latest')).code, 0, 'an excluded tag moves');
    assert.equal(await digestOf(repo, 'dev-latest'), two.digest);

    // Pushing the same image under an immutable tag again is not an overwrite.
    assert.equal((await push(one, repo, 'v1')).code, 0);
  });

  test('MUTABLE_WITH_EXCLUSION: only the filtered tags are fixed', async () => {
    const repo = 'immut/mut-excl';
    await b.ecr!.send(
      new CreateRepositoryCommand({
        repositoryName: repo,
        imageTagMutability: 'MUTABLE_WITH_EXCLUSION',
        imageTagMutabilityExclusionFilters: [{ filterType: 'WILDCARD', filter: 'release-*' }],
      }),
    );
    assert.equal((await push(one, repo, 'release-1')).code, 0);
    assert.equal((await push(one, repo, 'latest')).code, 0);
    assert.notEqual((await push(two, repo, 'release-1')).code, 0);
    assert.equal(await digestOf(repo, 'release-1'), one.digest);
    assert.equal((await push(two, repo, 'latest')).code, 0);
    assert.equal(await digestOf(repo, 'latest'), two.digest);
  });

  test('IMMUTABLE: no tag moves', async () => {
    const repo = 'immut/all';
    await b.ecr!.send(new CreateRepositoryCommand({ repositoryName: repo, imageTagMutability: 'IMMUTABLE' }));
    assert.equal((await push(one, repo, 'latest')).code, 0);
    const refused = await push(two, repo, 'latest');
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /immutable/);
    assert.equal(await digestOf(repo, 'latest'), one.digest);
  });
});
