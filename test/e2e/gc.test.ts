// Garbage collection running every second with a two-second grace period while pushes run
// continuously: every committed image still pulls byte-for-byte, and what nothing references
// (blobs uploaded for no manifest, abandoned uploads) disappears from disk.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { REPO_ROOT, startBerth, type Berth } from '../helpers/berth.js';
import { memImage, pushMemImage, request, sha256, startUpload, uploadBlob, type MemImage } from '../helpers/oci.js';
import { run, skopeo, skopeoCreds, tempDir } from '../helpers/tools.js';

const PUSH_SECONDS = 8;
const WORKERS = 3;

function blobFile(dataDir: string, digest: string): string {
  const hex = digest.slice('sha256:'.length);
  return join(dataDir, 'blobs', 'sha256', hex.slice(0, 2), hex);
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('garbage collection under concurrent pushes', () => {
  let b: Berth;
  const committed: Array<{ repo: string; tag: string; img: MemImage }> = [];
  const garbage: string[] = [];
  const abandoned: string[] = [];
  const failures: string[] = [];

  before(async () => {
    b = await startBerth({ env: { BERTH_GC_INTERVAL: '1', BERTH_GC_GRACE: '2', BERTH_LIFECYCLE_INTERVAL: '0' } });
    for (let w = 0; w < WORKERS; w++) await b.createRepository(`gc/w${w}`);
    const shared = { 'base.txt': 'a base layer every image shares' };
    const stopAt = Date.now() + PUSH_SECONDS * 1000;
    await Promise.all(
      Array.from({ length: WORKERS }, async (_, w) => {
        const repo = `gc/w${w}`;
        for (let i = 0; Date.now() < stopAt; i++) {
          const tag = `t${i}`;
          const img = memImage([shared, { 'own.txt': `worker ${w} image ${i} ${Math.random()}` }]);
          try {
            await pushMemImage(b, repo, tag, img);
            committed.push({ repo, tag, img });
          } catch (err) {
            failures.push(`${repo}:${tag}: ${(err as Error).message.slice(0, 500)}`);
          }
          if (i % 3 === 0) {
            garbage.push((await uploadBlob(b, repo, Buffer.from(`garbage ${w} ${i} ${Math.random()}`))).digest);
            const up = await startUpload(b, repo);
            await request(b, 'PATCH', up.location, { headers: { 'content-type': 'application/octet-stream' }, body: Buffer.from('half an upload') });
            abandoned.push(new URL(up.location).pathname.split('/').pop()!);
          }
        }
      }),
    );
  });

  after(async () => {
    await b?.destroy();
  });

  it('commits every push while collection runs', () => {
    assert.deepEqual(failures, []);
    assert.ok(committed.length >= WORKERS * 5, `only ${committed.length} images pushed`);
    assert.ok(garbage.length > 0 && abandoned.length > 0);
  });

  it('removes unreferenced blobs and abandoned uploads from disk', async () => {
    await waitFor('unreferenced blobs to be removed', async () => garbage.every((d) => !existsSync(blobFile(b.dataDir, d))), 30_000);
    await waitFor(
      'abandoned uploads to be removed',
      async () => {
        const left = new Set(await readdir(join(b.dataDir, 'uploads')));
        return abandoned.every((id) => !left.has(id));
      },
      30_000,
    );
    for (const d of garbage) {
      const res = await request(b, 'HEAD', `/v2/gc/w0/blobs/${d}`);
      assert.equal(res.status, 404);
    }
  });

  it('still serves every committed image byte-for-byte to skopeo', async () => {
    const work = await tempDir('berth-gc-pull-');
    try {
      const queue = [...committed];
      await Promise.all(
        Array.from({ length: 4 }, async () => {
          for (let next = queue.shift(); next; next = queue.shift()) {
            const { repo, tag, img } = next;
            const layout = join(work.path, `${repo.replace('/', '-')}-${tag}`);
            await skopeo([
              'copy',
              '--preserve-digests',
              '--src-tls-verify=false',
              ...skopeoCreds('--src-creds', b.password),
              `docker://${b.host}/${repo}:${tag}`,
              `oci:${layout}:${tag}`,
            ]);
            const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')) as { manifests: Array<{ digest: string }> };
            assert.equal(index.manifests[0]?.digest, img.digest, `${repo}:${tag} manifest digest`);
            const manifest = await readFile(join(layout, 'blobs', 'sha256', img.digest.slice(7)));
            assert.ok(manifest.equals(img.manifest), `${repo}:${tag} manifest bytes`);
            for (const blob of img.blobs) {
              const bytes = await readFile(join(layout, 'blobs', 'sha256', blob.digest.slice(7)));
              assert.equal(sha256(bytes), blob.digest);
              assert.ok(bytes.equals(blob.data), `${repo}:${tag} blob ${blob.digest}`);
            }
          }
        }),
      );
    } finally {
      await work.remove();
    }
  });

  it('berth admin gc --dry-run finds nothing left to collect', async () => {
    await new Promise((r) => setTimeout(r, 3000));
    const out = await run('node', [join(REPO_ROOT, 'bin', 'berth.js'), 'admin', 'gc', '--dry-run', '--data-dir', b.dataDir], {
      env: { BERTH_GC_GRACE: '2', BERTH_LOG_LEVEL: 'warn' },
    });
    assert.match(out.stdout, /^gc \(dry run\): would remove 0 blobs \(0 bytes freed\), 0 blob links, 0 uploads$/m);
  });
});
