// berth with its metadata in a real PostgreSQL server (BERTH_DATABASE_URL): create a repository
// through the ECR API, push and pull with skopeo, list tags, and still serve it all after a restart.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CreateRepositoryCommand, DescribeImagesCommand, DescribeRepositoriesCommand, ECRClient, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import pg from 'pg';
import { freePort, readAdminCredentials, REPO_ROOT, startBerth, type Berth } from '../helpers/berth.js';
import { buildImage, readLayoutImage, verifyLayoutBlobs, type LayoutImage } from '../helpers/images.js';
import { expectStatus, getManifest, listTags } from '../helpers/oci.js';
import { startPostgres, type Postgres } from '../helpers/postgres.js';
import { run, skopeo, skopeoCreds, tempDir } from '../helpers/tools.js';

const REPO = 'scale-out/app';
// Byte order puts upper case first; a database's default collation usually would not.
const TAGS = ['b', 'a', 'B'];
const TAGS_IN_BYTE_ORDER = ['B', 'a', 'b'];

describe('berth on PostgreSQL', { skip: process.env.BERTH_E2E_TARGET === 'distribution' && 'berth only' }, () => {
  let server: Postgres;
  let b: Berth;
  let work: { path: string; remove: () => Promise<void> };
  let src: LayoutImage;
  let pulls = 0;

  const ref = (tag: string) => `docker://${b.host}/${REPO}:${tag}`;
  const withLog = (msg: string) => `${msg}\n--- server output ---\n${b.output().slice(-3000)}`;

  /** Pulls `tag` into a fresh layout and checks it is exactly the image pushed. */
  async function pullAndCompare(tag: string): Promise<void> {
    const layout = join(work.path, `pull-${++pulls}`);
    await skopeo(['copy', '--preserve-digests', '--src-tls-verify=false', ...skopeoCreds('--src-creds', b.password), ref(tag), `oci:${layout}:out`]);
    const out = await readLayoutImage(layout, 'out');
    assert.equal(out.digest, src.digest);
    assert.ok(out.manifest.equals(src.manifest), 'manifest bytes differ');
    assert.deepEqual(out.layerDigests, src.layerDigests);
    await verifyLayoutBlobs(layout);
  }

  async function assertTags(): Promise<void> {
    const tags = await listTags(b, REPO);
    expectStatus(tags, 200);
    assert.deepEqual(tags.tags, TAGS_IN_BYTE_ORDER, withLog(tags.describe()));
  }

  before(async () => {
    server = await startPostgres();
    work = await tempDir('postgres');
    b = await startBerth({ env: { BERTH_DATABASE_URL: server.url } });
  });

  after(async () => {
    await b?.destroy();
    await work?.remove();
    await server?.stop();
  });

  test('push, pull, list tags, restart, pull again', async () => {
    await b.createRepository(REPO);
    src = await buildImage({
      layout: join(work.path, 'src'),
      tag: 'v1',
      files: [
        { path: '/etc/motd', content: 'hello from berth on PostgreSQL\n' },
        { path: '/data.bin', content: Buffer.alloc(100_000, 3) },
      ],
    });
    for (const tag of TAGS) {
      await skopeo(['copy', '--preserve-digests', '--dest-tls-verify=false', ...skopeoCreds('--dest-creds', b.password), src.ref, ref(tag)]);
    }

    const manifest = await getManifest(b, REPO, 'a');
    expectStatus(manifest, 200);
    assert.equal(manifest.headers.get('docker-content-digest'), src.digest);
    await pullAndCompare('b');
    await assertTags();
    const described = await b.ecr!.send(new DescribeImagesCommand({ repositoryName: REPO }));
    assert.deepEqual(
      described.imageDetails?.map((d) => [d.imageDigest, [...(d.imageTags ?? [])].sort()]),
      [[src.digest, [...TAGS].sort()]],
    );

    // The metadata is in PostgreSQL, not in a SQLite file beside the blobs.
    assert.equal(existsSync(join(b.dataDir, 'metadata.db')), false);
    assert.equal(existsSync(join(b.dataDir, 'audit.db')), false, 'the audit trail is in PostgreSQL too');
    const client = new pg.Client(server.url);
    await client.connect();
    try {
      const rows = await client.query<{ name: string }>('SELECT t.name FROM tags t JOIN repositories r ON r.id = t.repo_id WHERE r.name = $1', [REPO]);
      assert.deepEqual(rows.rows.map((r) => r.name).sort(), [...TAGS].sort());
    } finally {
      await client.end();
    }

    await b.restart();
    await pullAndCompare('B');
    await assertTags();
  });

  test('PostgreSQL restarting under a running berth: not ready while it is gone, serving again once it is back', async () => {
    await server.restart(async () => {
      assert.equal((await fetch(`${b.url}/readyz`)).status, 503, 'not ready without its metadata store');
      const during = await getManifest(b, REPO, 'a');
      assert.ok(during.status >= 500 && during.status < 600, `a request during the outage fails cleanly: ${during.status}`);
      assert.equal((await fetch(`${b.url}/healthz`)).status, 200, 'the process lives on');
    });
    // The pool drops the connections the restart killed and opens new ones.
    let readyz = 0;
    for (let i = 0; i < 50 && readyz !== 200; i++) {
      readyz = (await fetch(`${b.url}/readyz`)).status;
      if (readyz !== 200) await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(readyz, 200);
    await pullAndCompare('a');
    await assertTags();
  });

  test('berth admin works on the same database with --database-url', async () => {
    await run(process.execPath, [join(REPO_ROOT, 'bin', 'berth.js'), 'admin', 'user', 'create', 'pg-operator', '--data-dir', b.dataDir, '--database-url', server.url], {
      env: { BERTH_DATABASE_URL: undefined },
    });
    const client = new pg.Client(server.url);
    await client.connect();
    try {
      const rows = await client.query<{ name: string }>('SELECT name FROM iam_users WHERE name = $1', ['pg-operator']);
      assert.equal(rows.rows.length, 1);
    } finally {
      await client.end();
    }
    assert.equal(existsSync(join(b.dataDir, 'metadata.db')), false, 'admin must not fall back to SQLite');
  });

  test('two nodes serving two regions share each region through its own schema', async () => {
    const admin = new pg.Client(server.url);
    await admin.connect();
    await admin.query('CREATE DATABASE regions');
    const listens = [await freePort(), await freePort()];
    const nodes: Berth[] = [];
    try {
      for (const port of listens) {
        const env = { BERTH_DATABASE_URL: server.urlFor('regions'), BERTH_MASTER_KEY_FILE: join(work.path, 'regions-master.key'), BERTH_REGIONS: 'us-east-1,eu-west-1', BERTH_REGION_LISTEN: `eu-west-1=127.0.0.1:${port}` };
        nodes.push(await startBerth({ env, credentialsFrom: nodes[0]?.dataDir }));
      }
      const creds = (await readAdminCredentials(nodes[0]!.dataDir))!;
      const ecr = (node: Berth, region: string) => new ECRClient({ region, endpoint: node.url, credentials: { accessKeyId: creds.accessKeyId, secretAccessKey: creds.secretAccessKey } });
      await ecr(nodes[0]!, 'eu-west-1').send(new CreateRepositoryCommand({ repositoryName: 'eu/only' }));
      const seen = await ecr(nodes[1]!, 'eu-west-1').send(new DescribeRepositoriesCommand({ repositoryNames: ['eu/only'] }));
      assert.equal(seen.repositories?.[0]?.repositoryUri, `127.0.0.1:${listens[1]}/eu/only`, 'the other node serves it at its own eu-west-1 listener');
      await assert.rejects(ecr(nodes[1]!, 'us-east-1').send(new DescribeRepositoriesCommand({ repositoryNames: ['eu/only'] })), { name: 'RepositoryNotFoundException' });
      // A token one node issued for eu-west-1 opens eu-west-1's registry on the other node.
      const token = (await ecr(nodes[0]!, 'eu-west-1').send(new GetAuthorizationTokenCommand({}))).authorizationData![0]!.authorizationToken!;
      const tags = await fetch(`http://127.0.0.1:${listens[1]}/v2/eu/only/tags/list`, { headers: { authorization: `Basic ${token}` } });
      assert.equal(tags.status, 200);
      const db = new pg.Client(server.urlFor('regions'));
      await db.connect();
      try {
        assert.deepEqual((await db.query('SELECT name FROM region_eu_west_1.repositories')).rows, [{ name: 'eu/only' }]);
        assert.deepEqual((await db.query('SELECT name FROM public.repositories')).rows, []);
      } finally {
        await db.end();
      }
    } finally {
      for (const node of nodes) await node.destroy();
      await admin.end();
    }
  });
});
