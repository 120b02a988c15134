// Three berth nodes on one PostgreSQL server and one S3 bucket (Ceph's RADOS Gateway), behind nginx
// balancing round-robin: any node serves any request. Later nodes join the account the first
// created; an upload's chunks land on different nodes; skopeo and podman push and pull through
// nginx; a node killed with kill -9 mid-push loses nothing acknowledged; GC runs while others push.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { DescribeImagesCommand, ECRClient } from '@aws-sdk/client-ecr';
import { getLoginPassword, readAdminCredentials, REPO_ROOT, startBerth, type Berth } from '../helpers/berth.js';
import { buildImage, readBlob, readLayoutImage, verifyLayoutBlobs, type LayoutImage } from '../helpers/images.js';
import { expectStatus, finishUpload, request, sha256, startUpload } from '../helpers/oci.js';
import { nginxMissing, roundRobin, startNginx, type Nginx } from '../helpers/nginx.js';
import { startPostgres, type Postgres } from '../helpers/postgres.js';
import { startRgw, type Rgw } from '../helpers/rgw.js';
import { createPodman, run, skopeo, skopeoCreds, tempDir } from '../helpers/tools.js';

const MiB = 1024 * 1024;

describe('many nodes: PostgreSQL + S3 behind nginx', { skip: (process.env.BERTH_E2E_TARGET === 'distribution' && 'berth only') || nginxMissing }, () => {
  let pgServer: Postgres;
  let rgw: Rgw;
  let nodes: Berth[] = [];
  let nginx: Nginx | undefined;
  let front: string;
  let work: { path: string; remove: () => Promise<void> };
  let image: LayoutImage;
  let password: string;

  before(async () => {
    work = await tempDir('many-nodes');
    [pgServer, rgw] = await Promise.all([startPostgres(), startRgw()]);
    const env = {
      ...rgw.berthEnv,
      BERTH_DATABASE_URL: pgServer.url,
      BERTH_BLOB_STORE: 's3://berth-many-nodes/blobs',
      // Nodes of one deployment share the master key.
      BERTH_MASTER_KEY_FILE: join(work.path, 'master.key'),
      BERTH_GC_INTERVAL: '0',
    };
    const first = await startBerth({ env });
    nodes = [first, ...(await Promise.all([1, 2].map(() => startBerth({ env, credentialsFrom: first.dataDir }))))];
    nginx = await startNginx({ dir: join(work.path, 'nginx'), config: roundRobin(nodes.map((n) => n.host)) });
    front = nginx.host;
    password = first.password!;
    image = await buildImage({
      layout: join(work.path, 'src'),
      tag: 'v1',
      files: [
        { path: '/etc/motd', content: 'served by any node\n' },
        { path: '/data/big.bin', content: randomBytes(10 * MiB + 321) },
      ],
    });
  });

  after(async () => {
    await nginx?.stop();
    const errors = await nginx?.troubles();
    if (errors) console.error(`nginx error log:\n${errors}\n${nodes.map((n) => n.output().slice(-3000)).join('\n---\n')}`);
    await Promise.all(nodes.map((n) => n.destroy()));
    await Promise.all([rgw?.stop(), pgServer?.stop()]);
    await work?.remove();
  });

  it('later nodes joined the account the first created: one set of admin credentials works on all', async () => {
    assert.ok(await readAdminCredentials(nodes[0]!.dataDir), 'the first node wrote admin-credentials');
    for (const later of nodes.slice(1)) assert.equal(await readAdminCredentials(later.dataDir), undefined, 'a later node did not create another account');
    await nodes[0]!.createRepository('many/app');
    // A token from one node is accepted by the other: the signing keys live in the database.
    const onSecond = await fetch(`${nodes[1]!.url}/v2/many/app/tags/list`, { headers: { authorization: `Basic ${Buffer.from(`AWS:${password}`).toString('base64')}` } });
    assert.equal(onSecond.status, 200, await onSecond.text());
  });

  it("an upload's chunks on different nodes, and its completion on a third request, give one verified blob", async () => {
    await nodes[0]!.createRepository('many/chunks');
    const data = randomBytes(9 * MiB + 7);
    const up = await startUpload(nodes[0]!, 'many/chunks');
    expectStatus(up, 202);
    let location = new URL(up.location).pathname + new URL(up.location).search;
    const cuts = [0, 1, 3 * MiB + 5, 8 * MiB, data.length];
    for (let i = 0; i + 1 < cuts.length; i++) {
      const node = nodes[(i + 1) % nodes.length]!;
      const [start, end] = [cuts[i]!, cuts[i + 1]!];
      const patch = await request(node, 'PATCH', location, {
        headers: { 'content-type': 'application/octet-stream', 'content-range': `${start}-${end - 1}`, 'content-length': String(end - start) },
        body: data.subarray(start, end),
      });
      expectStatus(patch, 202);
      assert.equal(patch.headers.get('range'), `0-${end - 1}`);
      location = patch.headers.get('location')!;
    }
    const digest = sha256(data);
    // Completed on a node that did not take the last chunk.
    expectStatus(await finishUpload(nodes[2]!, new URL(location, nodes[2]!.url).toString(), digest), 201);
    for (const node of nodes) {
      const got = await request(node, 'GET', `/v2/many/chunks/blobs/${digest}`);
      expectStatus(got, 200);
      assert.equal(sha256(got.body), digest);
    }
  });

  it('skopeo pushes and pulls through nginx, images pushed in parallel to two repositories all land, and the ECR API answers on every node', async () => {
    await nodes[0]!.createRepository('many/app');
    await nodes[0]!.createRepository('many/other');
    await Promise.all(
      ['many/app', 'many/other'].map((repo) =>
        skopeo(['copy', '--preserve-digests', '--dest-tls-verify=false', ...skopeoCreds('--dest-creds', password), image.ref, `docker://${front}/${repo}:v1`]),
      ),
    );
    for (const repo of ['many/app', 'many/other']) {
      const out = join(work.path, `pulled-${repo.replace('/', '-')}`);
      await skopeo(['copy', '--preserve-digests', '--src-tls-verify=false', ...skopeoCreds('--src-creds', password), `docker://${front}/${repo}:v1`, `oci:${out}:v1`]);
      const pulled = await readLayoutImage(out, 'v1');
      assert.equal(pulled.digest, image.digest);
      assert.deepEqual((await verifyLayoutBlobs(out)).sort(), [image.digest, image.configDigest, ...image.layerDigests].sort());
      for (const digest of image.layerDigests) assert.deepEqual(await readBlob(out, digest), await readBlob(join(work.path, 'src'), digest));
    }
    const creds = (await readAdminCredentials(nodes[0]!.dataDir))!;
    for (const endpoint of [...nodes.map((n) => n.url), `http://${front}`]) {
      const ecr = new ECRClient({ endpoint, region: creds.region, credentials: { accessKeyId: creds.accessKeyId, secretAccessKey: creds.secretAccessKey }, maxAttempts: 1 });
      try {
        const described = await ecr.send(new DescribeImagesCommand({ repositoryName: 'many/app' }));
        assert.deepEqual(described.imageDetails?.map((d) => [d.imageDigest, d.imageTags]), [[image.digest, ['v1']]], endpoint);
        assert.ok(await getLoginPassword(ecr));
      } finally {
        ecr.destroy();
      }
    }
  });

  it('podman pulls through nginx what skopeo pushed, and pushes it on to another repository', async () => {
    const podman = await createPodman();
    try {
      await podman.login(front, password);
      await podman.cmd(['pull', '--tls-verify=false', `${front}/many/app:v1`]);
      await nodes[0]!.createRepository('many/copied');
      await podman.cmd(['tag', `${front}/many/app:v1`, `${front}/many/copied:v1`]);
      await podman.cmd(['push', '--tls-verify=false', `${front}/many/copied:v1`]);
      const tags = await request(nodes[2]!, 'GET', '/v2/many/copied/tags/list');
      expectStatus(tags, 200);
      assert.deepEqual(JSON.parse(tags.body.toString()).tags, ['v1']);
    } finally {
      await podman.cleanup();
    }
  });

  it('a node killed with kill -9 in the middle of a push: the client retries through the others and nothing acknowledged is lost', async () => {
    await nodes[0]!.createRepository('many/killed');
    const big = await buildImage({ layout: join(work.path, 'big'), tag: 'v1', files: [{ path: '/data/big.bin', content: randomBytes(48 * MiB) }] });
    const push = () => skopeo(['copy', '--preserve-digests', '--dest-tls-verify=false', ...skopeoCreds('--dest-creds', password), big.ref, `docker://${front}/many/killed:v1`], { check: false });
    const victim = nodes[1]!;
    let settled = false;
    const first = push().finally(() => (settled = true));
    await new Promise((r) => setTimeout(r, 700));
    assert.equal(settled, false, 'the node is killed while the push is in flight');
    await victim.kill9();
    let result = await first;
    for (let attempt = 0; result.code !== 0 && attempt < 3; attempt++) result = await push();
    assert.equal(result.code, 0, result.stderr);
    for (const [repo, img] of [['many/killed', big], ['many/app', image]] as const) {
      const out = join(work.path, `after-kill-${repo.replace('/', '-')}`);
      await skopeo(['copy', '--preserve-digests', '--src-tls-verify=false', ...skopeoCreds('--src-creds', password), `docker://${front}/${repo}:v1`, `oci:${out}:v1`]);
      assert.equal((await readLayoutImage(out, 'v1')).digest, img.digest);
      assert.deepEqual((await verifyLayoutBlobs(out)).sort(), [img.digest, img.configDigest, ...img.layerDigests].sort());
    }
    await victim.restart();
    const again = await request(victim, 'GET', '/v2/many/killed/tags/list');
    expectStatus(again, 200);
  });

  it('garbage collection on one node while pushes go through the others keeps every pushed image whole', async () => {
    const gcEnv = { BERTH_DATABASE_URL: pgServer.url, BERTH_BLOB_STORE: 's3://berth-many-nodes/blobs', BERTH_MASTER_KEY_FILE: join(work.path, 'master.key'), ...rgw.berthEnv, BERTH_LOG_LEVEL: 'warn' };
    const repos = ['many/gc-a', 'many/gc-b'];
    for (const repo of repos) await nodes[0]!.createRepository(repo);
    const images = await Promise.all(
      repos.map((repo, i) => buildImage({ layout: join(work.path, `gc-${i}`), tag: 'v1', files: [{ path: '/data/x.bin', content: randomBytes(6 * MiB + i) }] })),
    );
    let collecting = true;
    const passes: string[] = [];
    const collector = (async () => {
      while (collecting) {
        const gc = await run('node', [join(REPO_ROOT, 'bin', 'berth.js'), 'admin', 'gc', '--data-dir', nodes[0]!.dataDir], { check: false, env: gcEnv });
        assert.equal(gc.code, 0, gc.stderr);
        passes.push(gc.stdout.trim());
      }
    })();
    try {
      await Promise.all(
        repos.map((repo, i) => skopeo(['copy', '--preserve-digests', '--dest-tls-verify=false', ...skopeoCreds('--dest-creds', password), images[i]!.ref, `docker://${front}/${repo}:v1`])),
      );
    } finally {
      collecting = false;
      await collector;
    }
    assert.ok(passes.length >= 1, 'garbage collection ran during the pushes');
    for (const [i, repo] of repos.entries()) {
      const out = join(work.path, `after-gc-${i}`);
      await skopeo(['copy', '--preserve-digests', '--src-tls-verify=false', ...skopeoCreds('--src-creds', password), `docker://${front}/${repo}:v1`, `oci:${out}:v1`]);
      assert.deepEqual((await verifyLayoutBlobs(out)).sort(), [images[i]!.digest, images[i]!.configDigest, ...images[i]!.layerDigests].sort());
    }
  });
});
