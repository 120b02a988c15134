// Many nodes: what one request costs a berth node (CPU) and the shared database (statements, which
// are round trips), from which throughput at N nodes can be modelled; manifest GET through nginx
// with 1 and 3 nodes; pushes to different repositories side by side against pushes into one.
// Nodes run on PostgreSQL (with pg_stat_statements counting statements) and a Ceph RADOS Gateway on
// loopback. Run: `npm run bench:cluster` (needs nginx, wrk, PostgreSQL and radosgw: scripts/test.sh installs them).
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { REPO_ROOT, startBerth, type Berth } from '../test/helpers/berth.js';
import { roundRobin, startNginx, type Nginx } from '../test/helpers/nginx.js';
import { startPostgres } from '../test/helpers/postgres.js';
import { startRgw } from '../test/helpers/rgw.js';
import { run } from '../test/helpers/tools.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
const sha = (b: Buffer) => 'sha256:' + createHash('sha256').update(b).digest('hex');

interface Cost {
  operation: string;
  cpuMsPerOp: number;
  statementsPerOp: number;
}

async function main(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'berth-bench-cluster-'));
  const pgServer = await startPostgres({ shared_preload_libraries: 'pg_stat_statements', 'pg_stat_statements.track': 'all' });
  const rgw = await startRgw();
  const nodes: Berth[] = [];
  let nginx: Nginx | undefined;
  const stats = new pg.Client(pgServer.urlFor('postgres'));
  try {
    await stats.connect();
    await stats.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
    const env = {
      ...rgw.berthEnv,
      BERTH_DATABASE_URL: pgServer.url,
      BERTH_BLOB_STORE: 's3://berth-bench-cluster/blobs',
      BERTH_MASTER_KEY_FILE: join(work, 'master.key'),
      BERTH_METRICS_PUBLIC: 'true',
      BERTH_GC_INTERVAL: '0',
      BERTH_LIFECYCLE_INTERVAL: '0',
      BERTH_LOG_LEVEL: 'warn',
    };
    nodes.push(await startBerth({ env }));
    for (let i = 1; i < 3; i++) nodes.push(await startBerth({ env, credentialsFrom: nodes[0]!.dataDir }));
    const [first] = nodes as [Berth];
    const statements = async () => Number((await stats.query('SELECT COALESCE(sum(calls), 0) AS n FROM pg_stat_statements')).rows[0].n);
    const cpuSeconds = async (node: Berth) => {
      const text = await (await fetch(`${node.url}/metrics`)).text();
      return Number(/^process_cpu_seconds_total (\S+)/m.exec(text)?.[1] ?? NaN);
    };
    // What the nodes do when idle (job polling, counters flushed): subtracted from each measurement.
    const idleStart = { at: performance.now(), cpu: await cpuSeconds(first), st: await statements() };
    await new Promise((r) => setTimeout(r, 5000));
    const idleSeconds = (performance.now() - idleStart.at) / 1000;
    const idleCpuPerSec = ((await cpuSeconds(first)) - idleStart.cpu) / idleSeconds;
    const idleStatementsPerSec = ((await statements()) - idleStart.st - 1) / idleSeconds;
    /** CPU of `node` and database statements per operation, over `count` runs of `op`, less the idle rate. */
    const measure = async (operation: string, count: number, op: (i: number) => Promise<void>): Promise<Cost> => {
      await op(-1); // warm-up
      const [cpu0, st0, t0] = [await cpuSeconds(first), await statements(), performance.now()];
      for (let i = 0; i < count; i++) await op(i);
      const elapsed = (performance.now() - t0) / 1000;
      const [cpu1, st1] = [await cpuSeconds(first), await statements()];
      // The probes themselves: one /metrics scrape (no statements) and one stats query.
      return {
        operation,
        cpuMsPerOp: ((cpu1 - cpu0 - idleCpuPerSec * elapsed) * 1000) / count,
        statementsPerOp: (st1 - st0 - 1 - idleStatementsPerSec * elapsed) / count,
      };
    };

    await first.createRepository('bench/cost');
    const auth = { authorization: first.authHeader! };
    const blob = randomBytes(1024 * 1024);
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }));
    const pushBlob = async (repo: string, data: Buffer, node = first) => {
      const post = await fetch(`${node.url}/v2/${repo}/blobs/uploads/?digest=${sha(data)}`, { method: 'POST', headers: { ...auth, 'content-type': 'application/octet-stream' }, body: new Uint8Array(data) });
      if (post.status !== 201) throw new Error(`blob push: ${post.status} ${await post.text()}`);
    };
    const manifestFor = (layer: Buffer) =>
      Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha(config), size: config.length },
          layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha(layer), size: layer.length }],
        }),
      );
    const pushManifest = async (repo: string, tag: string, manifest: Buffer, node = first) => {
      const put = await fetch(`${node.url}/v2/${repo}/manifests/${tag}`, { method: 'PUT', headers: { ...auth, 'content-type': 'application/vnd.oci.image.manifest.v1+json' }, body: new Uint8Array(manifest) });
      if (put.status !== 201) throw new Error(`manifest push: ${put.status} ${await put.text()}`);
    };
    await pushBlob('bench/cost', config);
    await pushBlob('bench/cost', blob);
    const manifest = manifestFor(blob);
    await pushManifest('bench/cost', 'latest', manifest);

    const costs: Cost[] = [];
    costs.push(
      await measure('manifest GET by tag', 200, async () => {
        const res = await fetch(`${first.url}/v2/bench/cost/manifests/latest`, { headers: { ...auth, accept: 'application/vnd.oci.image.manifest.v1+json' } });
        await res.arrayBuffer();
        if (res.status !== 200) throw new Error(`manifest GET: ${res.status}`);
      }),
    );
    costs.push(
      await measure('blob GET, 1 MiB', 50, async () => {
        const res = await fetch(`${first.url}/v2/bench/cost/blobs/${sha(blob)}`, { headers: auth });
        await res.arrayBuffer();
        if (res.status !== 200) throw new Error(`blob GET: ${res.status}`);
      }),
    );
    costs.push(await measure('blob push, 1 MiB, monolithic', 30, (i) => pushBlob('bench/cost', Buffer.concat([blob.subarray(16), Buffer.from(`${i}`.padStart(16, '0'))]))));
    const layers = Array.from({ length: 31 }, (_, i) => Buffer.from(`layer ${i}`));
    for (const layer of layers) await pushBlob('bench/cost', layer);
    costs.push(await measure('manifest PUT with a new tag', 30, (i) => pushManifest('bench/cost', `t${i + 1}`, manifestFor(layers[i + 1]!))));

    // Manifest GET through nginx, with 1 and 3 nodes behind it.
    const wrkGet = async (target: string): Promise<number> => {
      const res = await run('wrk', ['-t', '2', '-c', String(CONNECTIONS), '-d', `${SECONDS}s`, '-s', join(REPO_ROOT, 'bench', 'workloads', 'manifest-load.lua'), '-H', `Authorization: ${first.authHeader}`, '-H', 'Accept: application/vnd.oci.image.manifest.v1+json', `${target}/v2/bench/cost/manifests/latest`], { env: { BENCH_METHOD: 'GET' }, timeoutMs: (SECONDS + 30) * 1000 });
      const line = /BENCH_RESULT (\{.*\})/.exec(res.stdout)?.[1];
      if (!line) throw new Error(`wrk: ${res.stdout}${res.stderr}`);
      const r = JSON.parse(line) as { requests: number; duration_us: number; non200: number };
      if (r.non200 > 0) throw new Error(`wrk saw ${r.non200} non-200 answers`);
      return r.requests / (r.duration_us / 1e6);
    };
    const throughput: { setup: string; reqPerSec: number }[] = [];
    throughput.push({ setup: '1 node, direct', reqPerSec: await wrkGet(first.url) });
    for (const count of [1, 3]) {
      nginx = await startNginx({ dir: join(work, `nginx-${count}`), config: roundRobin(nodes.slice(0, count).map((n) => n.host), { keepalive: 64, workerConnections: 1024 }) });
      throughput.push({ setup: `${count} node${count > 1 ? 's' : ''} behind nginx`, reqPerSec: await wrkGet(`http://${nginx.host}`) });
      await nginx.stop();
      nginx = undefined;
    }

    // Pushes side by side: 8 clients each pushing images, into 8 repositories or all into one.
    const clients = 8;
    const imagesEach = 10;
    const parallel: { setup: string; imagesPerSec: number }[] = [];
    for (const [setup, repoOf, spread] of [
      ['8 repositories, 1 node', (c: number) => `bench/side-${c}`, false],
      ['1 repository, 1 node', () => 'bench/one', false],
      ['8 repositories, 3 nodes', (c: number) => `bench/spread-${c}`, true],
    ] as const) {
      for (let c = 0; c < clients; c++) await first.createRepository(repoOf(c));
      const started = performance.now();
      await Promise.all(
        Array.from({ length: clients }, async (_, c) => {
          const node = spread ? nodes[c % nodes.length]! : first;
          for (let i = 0; i < imagesEach; i++) {
            const layer = randomBytes(64 * 1024);
            await pushBlob(repoOf(c), config, node);
            await pushBlob(repoOf(c), layer, node);
            await pushManifest(repoOf(c), `c${c}-i${i}`, manifestFor(layer), node);
          }
        }),
      );
      parallel.push({ setup, imagesPerSec: (clients * imagesEach) / ((performance.now() - started) / 1000) });
    }

    const pgVersion = (await stats.query('SHOW server_version')).rows[0].server_version as string;
    if (process.env.BENCH_TOP_STATEMENTS) {
      const top = await stats.query("SELECT calls, left(regexp_replace(query, '[[:space:]]+', ' ', 'g'), 110) AS q FROM pg_stat_statements ORDER BY calls DESC LIMIT 25");
      for (const r of top.rows) console.log(String(r.calls).padStart(8), r.q);
    }
    console.log(`\nidle: ${(idleCpuPerSec * 1000).toFixed(1)} ms CPU/s on a node, ${idleStatementsPerSec.toFixed(1)} statements/s from 3 nodes (subtracted below)`);
    console.log(`\nMany nodes on PostgreSQL ${pgVersion} and S3 (Ceph RADOS Gateway on loopback), ${clients} push clients; manifest GET by wrk, ${CONNECTIONS} connections, ${SECONDS} s\n`);
    console.log('| operation | CPU per op on the node, ms | database statements per op |');
    console.log('|---|---:|---:|');
    for (const c of costs) console.log(`| ${c.operation} | ${c.cpuMsPerOp.toFixed(3)} | ${c.statementsPerOp.toFixed(1)} |`);
    console.log('\n| manifest GET | req/s |');
    console.log('|---|---:|');
    for (const t of throughput) console.log(`| ${t.setup} | ${t.reqPerSec.toFixed(0)} |`);
    console.log('\n| pushes side by side (64 KiB layer + config + manifest) | images/s |');
    console.log('|---|---:|');
    for (const p of parallel) console.log(`| ${p.setup} | ${p.imagesPerSec.toFixed(1)} |`);
  } finally {
    await nginx?.stop();
    await stats.end().catch(() => undefined);
    await Promise.all(nodes.map((n) => n.destroy()));
    await rgw.stop();
    await pgServer.stop();
    await rm(work, { recursive: true, force: true });
  }
}

await main();
