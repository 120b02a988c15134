// Usage metered by two berth nodes on one PostgreSQL database: the pulls each node served add up
// in the same hourly rows, and the storage both nodes sample is integrated once.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { REPO_ROOT, startBerth, type Berth } from '../helpers/berth.js';
import { buildImage } from '../helpers/images.js';
import { startPostgres, type Postgres } from '../helpers/postgres.js';
import { run, skopeo, tempDir } from '../helpers/tools.js';

const REPO = 'usage/scale-out';
const PULLS_PER_NODE = 25;

interface RepositoryUsage {
  repositoryName: string;
  storageBytes: number;
  storageByteHours: number;
  transferOutBytes: number;
  pushCount: number;
  pullCount: number;
}

describe('usage on two nodes sharing PostgreSQL', { timeout: 600_000, skip: process.env.BERTH_E2E_TARGET === 'distribution' && 'berth only' }, () => {
  let server: Postgres;
  let nodes: Berth[] = [];
  let work: { path: string; remove: () => Promise<void> };

  async function usage(): Promise<RepositoryUsage | undefined> {
    const month = new Date().toISOString().slice(0, 7);
    const out = await run(process.execPath, [join(REPO_ROOT, 'bin', 'berth.js'), 'admin', 'usage', '--month', month, '--json', '--data-dir', nodes[0]!.dataDir, '--database-url', server.url], { timeoutMs: 120_000 });
    return (JSON.parse(out.stdout) as { repositories: RepositoryUsage[] }).repositories.find((r) => r.repositoryName === REPO);
  }

  before(async () => {
    server = await startPostgres();
    work = await tempDir('berth-usage-pg-');
    // Both nodes share the data dir (blobs, master key) and the database; each samples storage every second.
    const env = { BERTH_DATABASE_URL: server.url, BERTH_USAGE_SAMPLE_INTERVAL: '1' };
    const first = await startBerth({ env });
    nodes = [first, await startBerth({ env, dataDir: first.dataDir })];
  });

  after(async () => {
    for (const n of [...nodes].reverse()) await n.destroy();
    await work?.remove();
    await server?.stop();
  });

  test('manifest GETs on both nodes add up; transfer out and storage are counted once', async () => {
    const [a, b] = nodes as [Berth, Berth];
    await a.createRepository(REPO);
    const image = await buildImage({ layout: join(work.path, 'layout'), tag: 'v1', files: [{ path: '/data', content: 'scale out\n'.repeat(1000) }] });
    await skopeo(['copy', '--dest-tls-verify=false', '--dest-creds', `AWS:${a.password}`, image.ref, `docker://${a.host}/${REPO}:v1`]);

    // Wait for the push to be metered, then take it as the baseline.
    let base: RepositoryUsage | undefined;
    for (let i = 0; i < 30 && !(base && base.pushCount === 1); i++) {
      await new Promise((r) => setTimeout(r, 1000));
      base = await usage();
    }
    assert.equal(base?.pushCount, 1);

    const accept = 'application/vnd.oci.image.manifest.v1+json';
    let manifestBytes = 0;
    await Promise.all(nodes.flatMap((node) => Array.from({ length: PULLS_PER_NODE }, async () => {
      const res = await node.fetch(`/v2/${REPO}/manifests/v1`, { headers: { accept } });
      assert.equal(res.status, 200);
      manifestBytes += (await res.arrayBuffer()).byteLength;
    })));
    assert.equal(manifestBytes, image.manifest.length * 2 * PULLS_PER_NODE);

    let now: RepositoryUsage | undefined;
    for (let i = 0; i < 30 && !(now && now.pullCount >= base!.pullCount + 2 * PULLS_PER_NODE); i++) {
      await new Promise((r) => setTimeout(r, 1000));
      now = await usage();
    }
    assert.equal(now!.pullCount - base!.pullCount, 2 * PULLS_PER_NODE);
    assert.equal(now!.pushCount, 1);
    const sent = now!.transferOutBytes - base!.transferOutBytes;
    assert.ok(sent >= manifestBytes && sent < manifestBytes + 2 * PULLS_PER_NODE * 1024, `${sent} bytes metered for ${manifestBytes} bytes of manifests`);

    // Storage: both nodes (and each `berth admin usage`) sample; the byte-hours still never exceed
    // the stored bytes for the time since the first sample.
    const stored = now!.storageBytes;
    assert.ok(stored > image.manifest.length);
    const t0 = Date.now();
    const s0 = (await usage())!.storageByteHours;
    await new Promise((r) => setTimeout(r, 3000));
    const s1 = (await usage())!.storageByteHours;
    const elapsedHours = (Date.now() - t0) / 3_600_000;
    assert.ok(s1 - s0 > 0 && s1 - s0 <= stored * elapsedHours * 1.0001 + 1, `${s1 - s0} byte-hours in ${elapsedHours} h at ${stored} bytes`);
  });
});
