// Row: a mixed workload modelled on zot's zb "Pull 75% / Push 25%" tests. `clients` concurrent
// workers run whole workflows until the time is up; requests/s counts workflows, and the
// latencies are per workflow.
//   pull: HEAD manifest, GET manifest, HEAD + GET config, HEAD + streamed GET of the layer
//         (each worker pulls the image it pushed during the untimed setup);
//   push: monolithic push of a new layer and the config into a new repository, then PUT manifest.
// Unlike zb, every push uploads a distinct layer digest (zb re-pushes one sparse file).
import { newBlob } from '../random-blob.js';
import { RegistryClient, type PushedImage } from '../registry-client.js';
import type { RunningServer } from '../servers.js';
import { elapsedSeconds, mbPerSecond, percentile } from '../stats.js';

export interface MixedOptions {
  sizeBytes: number;
  clients: number;
  seconds: number;
  pushPercent: number;
  /** Distinguishes repository names between rounds; also seeds the pull/push choice. */
  round: number;
}

export interface MixedResult {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  pulls: number;
  pushes: number;
  /** Layer bytes moved per second, both directions. */
  mbps: number;
}

/** Small deterministic PRNG, so both servers see the same sequence of pulls and pushes. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function pullWorkflow(client: RegistryClient, image: PushedImage): Promise<number> {
  await client.headManifest(image.repo, image.tag);
  await client.getManifest(image.repo, image.tag);
  await client.headBlob(image.repo, image.config.digest);
  let bytes = await client.pullBlob(image.repo, image.config.digest);
  for (const layer of image.layers) {
    await client.headBlob(image.repo, layer.digest);
    const got = await client.pullBlob(image.repo, layer.digest);
    if (got !== layer.size) throw new Error(`pulled ${got} bytes of ${layer.digest}, expected ${layer.size}`);
    bytes += got;
  }
  return bytes;
}

export async function mixedWorkload(server: RunningServer, options: MixedOptions): Promise<MixedResult> {
  const { sizeBytes, clients, seconds, pushPercent, round } = options;
  const sizeTag = `${Math.round(sizeBytes / 1024)}k`;
  const client = new RegistryClient(server.origin, server.authorization, clients);
  try {
    // Untimed setup: each worker's own image to pull.
    const images = await Promise.all(
      Array.from({ length: clients }, (_, worker) =>
        client.pushImage(`zb/pull-${sizeTag}-r${round}-w${worker}`, 'latest', [newBlob(sizeBytes)]),
      ),
    );

    const latenciesMs: number[] = [];
    let pulls = 0;
    let pushes = 0;
    let bytes = 0;
    const start = process.hrtime.bigint();
    const deadline = Date.now() + seconds * 1000;
    await Promise.all(
      images.map(async (image, worker) => {
        const random = mulberry32(round * 1000 + worker + 1);
        for (let n = 0; Date.now() < deadline; n++) {
          const t0 = process.hrtime.bigint();
          if (random() * 100 < pushPercent) {
            await client.pushImage(`zb/push-${sizeTag}-r${round}-w${worker}-${n}`, 'latest', [newBlob(sizeBytes)]);
            pushes++;
            bytes += sizeBytes;
          } else {
            const pulled = await pullWorkflow(client, image); // not `bytes += await …`: that loses updates
            bytes += pulled;
            pulls++;
          }
          latenciesMs.push(elapsedSeconds(t0) * 1000);
        }
      }),
    );
    const wall = elapsedSeconds(start);
    return {
      rps: latenciesMs.length / wall,
      p50Ms: percentile(latenciesMs, 50),
      p99Ms: percentile(latenciesMs, 99),
      pulls,
      pushes,
      mbps: mbPerSecond(bytes, wall),
    };
  } catch (err) {
    throw new Error(`${server.label}: mixed workload (${sizeTag}): ${(err as Error).message}`);
  } finally {
    await client.close();
  }
}
