// The compose example of the deployment guide, run with the files it ships: three berth nodes with
// the settings of deploy/compose/compose.yaml (addresses pointed at a real PostgreSQL server and a
// real S3 gateway on loopback), behind nginx running deploy/compose/nginx.conf (its upstreams pointed
// at the nodes). The guide's command for administrator credentials works on a node that did not
// create the account, the ECR API answers signed requests through nginx, and skopeo pushes and pulls.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CreateRepositoryCommand, ECRClient } from '@aws-sdk/client-ecr';
import { parse } from 'yaml';
import { freePort, getLoginPassword, REPO_ROOT, startBerth, type Berth } from '../helpers/berth.js';
import { buildImage, readBlob, readLayoutImage, verifyLayoutBlobs, type LayoutImage } from '../helpers/images.js';
import { nginxMissing, startNginx, type Nginx } from '../helpers/nginx.js';
import { startPostgres, type Postgres } from '../helpers/postgres.js';
import { startRgw, type Rgw } from '../helpers/rgw.js';
import { run, skopeo, skopeoCreds, tempDir } from '../helpers/tools.js';

const COMPOSE = join(REPO_ROOT, 'deploy', 'compose');
const MiB = 1024 * 1024;

/** The environment compose.yaml gives its berth nodes. */
function composeBerthEnvironment(): Record<string, string> {
  const compose = parse(readFileSync(join(COMPOSE, 'compose.yaml'), 'utf8'), { merge: true }) as { services: Record<string, { command?: string[]; environment?: Record<string, string> }> };
  const node = Object.values(compose.services).find((s) => s.command?.includes('serve'));
  assert.ok(node?.environment, 'compose.yaml has a berth node with an environment');
  return node.environment;
}

describe('deployment guide: the compose example, run', { skip: (process.env.BERTH_E2E_TARGET === 'distribution' && 'berth only') || nginxMissing }, () => {
  let pgServer: Postgres;
  let rgw: Rgw;
  let nodes: Berth[] = [];
  let nginx: Nginx | undefined;
  let front: string;
  let env: Record<string, string>;
  let work: { path: string; remove: () => Promise<void> };
  let image: LayoutImage;

  before(async () => {
    work = await tempDir('deploy-compose');
    [pgServer, rgw] = await Promise.all([startPostgres(), startRgw()]);
    const nginxPort = await freePort();
    front = `127.0.0.1:${nginxPort}`;
    const masterKey = join(work.path, 'master.key');
    await writeFile(masterKey, randomBytes(32).toString('hex') + '\n', { mode: 0o400 });
    const { BERTH_DATA_DIR: _eachNodeItsOwn, ...fromCompose } = composeBerthEnvironment();
    env = {
      ...fromCompose,
      // Where compose names its services, these servers on loopback.
      ...rgw.berthEnv,
      BERTH_DATABASE_URL: pgServer.url,
      BERTH_MASTER_KEY_FILE: masterKey,
      BERTH_PUBLIC_URL: `http://${front}`,
      BERTH_GC_INTERVAL: '0',
    };
    const first = await startBerth({ env });
    nodes = [first, ...(await Promise.all([1, 2].map(() => startBerth({ env, credentialsFrom: first.dataDir }))))];
    nginx = await startNginx({ dir: join(work.path, 'nginx'), port: nginxPort, config: shippedNginxConfig });
    image = await buildImage({
      layout: join(work.path, 'src'),
      tag: 'v1',
      files: [
        { path: '/etc/motd', content: 'deployed\n' },
        { path: '/data/big.bin', content: randomBytes(12 * MiB + 5) },
      ],
    });
  });

  after(async () => {
    await nginx?.stop();
    const errors = await nginx?.troubles();
    if (errors) console.error(`nginx error log:\n${errors}`);
    await Promise.all(nodes.map((n) => n.destroy()));
    await Promise.all([rgw?.stop(), pgServer?.stop()]);
    await work?.remove();
  });

  /** deploy/compose/nginx.conf as shipped, but for where it runs: upstreams and listen address. */
  function shippedNginxConfig(listen: string): string {
    let servers = 0;
    const conf = readFileSync(join(COMPOSE, 'nginx.conf'), 'utf8')
      .replace(/server\s+berth-\d+:\d+;/g, () => `server ${nodes[servers++]!.host};`)
      .replace(/listen\s+\d+;/, `listen ${listen};`);
    assert.equal(servers, nodes.length, 'nginx.conf names one upstream server per node');
    return conf;
  }

  /** The guide's `node /app/bin/berth.js admin access-key create admin`, in a node's environment. */
  async function adminAccessKey(node: Berth): Promise<{ accessKeyId: string; secretAccessKey: string }> {
    const out = await run(process.execPath, [join(REPO_ROOT, 'bin', 'berth.js'), 'admin', 'access-key', 'create', 'admin'], {
      env: { ...process.env, ...env, BERTH_DATA_DIR: node.dataDir },
    });
    const accessKeyId = /^aws_access_key_id = (\S+)$/m.exec(out.stdout)?.[1];
    const secretAccessKey = /^aws_secret_access_key = (\S+)$/m.exec(out.stdout)?.[1];
    assert.ok(accessKeyId && secretAccessKey, `an access key is printed:\n${out.stdout}`);
    return { accessKeyId, secretAccessKey };
  }

  it('the guide\'s command prints administrator credentials on a node that did not create the account; they sign requests through nginx', async () => {
    const credentials = await adminAccessKey(nodes[2]!);
    const ecr = new ECRClient({ endpoint: `http://${front}`, region: env.BERTH_REGION ?? 'us-east-1', credentials, maxAttempts: 1 });
    try {
      const created = await ecr.send(new CreateRepositoryCommand({ repositoryName: 'deploy/app' }));
      assert.equal(created.repository?.repositoryUri?.split('/')[0], front, 'repository URIs use BERTH_PUBLIC_URL');
      const password = await getLoginPassword(ecr);
      await skopeo(['copy', '--preserve-digests', '--dest-tls-verify=false', ...skopeoCreds('--dest-creds', password), image.ref, `docker://${front}/deploy/app:v1`]);
      const out = join(work.path, 'pulled');
      await skopeo(['copy', '--preserve-digests', '--src-tls-verify=false', ...skopeoCreds('--src-creds', password), `docker://${front}/deploy/app:v1`, `oci:${out}:v1`]);
      assert.equal((await readLayoutImage(out, 'v1')).digest, image.digest);
      assert.deepEqual((await verifyLayoutBlobs(out)).sort(), [image.digest, image.configDigest, ...image.layerDigests].sort());
      for (const digest of image.layerDigests) assert.deepEqual(await readBlob(out, digest), await readBlob(join(work.path, 'src'), digest));
    } finally {
      ecr.destroy();
    }
  });
});
