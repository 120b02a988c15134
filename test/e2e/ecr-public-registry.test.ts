// ECR Public's registry on its own address (BERTH_PUBLIC_LISTEN), as public.ecr.aws: repository
// URIs `<host>/<alias>/<name>`, a Bearer challenge and a token endpoint, so clients without any
// credentials — the Docker engine's flow, replayed here request by request — pull anonymously;
// podman logs in with `aws ecr-public get-login-password` and pushes through the token endpoint.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { cp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startBerth, type Berth } from '../helpers/berth.js';
import { AWS, awsCliEnv } from '../helpers/aws-cli.js';
import { buildImage, type LayoutImage } from '../helpers/images.js';
import { credentialFreeEnv, createPodman, run, skopeo, skopeoCreds, tempDir, type Podman } from '../helpers/tools.js';


/** The parameters of a `WWW-Authenticate: Bearer k="v",…` challenge. */
function bearerChallenge(header: string | null): Record<string, string> {
  assert.ok(header?.startsWith('Bearer '), `expected a Bearer challenge, got ${header}`);
  return Object.fromEntries([...header!.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
}

describe('ECR Public registry on its own address', () => {
  let b: Berth;
  let publicHost: string;
  let work: { path: string; remove: () => Promise<void> };
  let env: Record<string, string>;
  let anonymousEnv: Record<string, string>;
  let image: LayoutImage;
  let podman: Podman | undefined;
  let uri: string;

  const aws = async (service: string, args: string[]) => {
    const res = await run(AWS, ['--endpoint-url', b.url, '--output', 'json', '--region', 'us-east-1', service, ...args], { env, check: false, timeoutMs: 60_000 });
    assert.equal(res.code, 0, `aws ${service} ${args.join(' ')}: ${res.stderr}\n${b.output().slice(-2000)}`);
    return res.stdout;
  };

  before(async () => {
    publicHost = `127.0.0.1:${await freePort()}`;
    b = await startBerth({ env: { BERTH_PUBLIC_LISTEN: publicHost } });
    work = await tempDir('ecr-public-registry');
    env = await awsCliEnv(b);
    anonymousEnv = await credentialFreeEnv(work.path);
    image = await buildImage({ layout: join(work.path, 'img'), tag: 'v1', files: [{ path: '/etc/motd', content: 'from the public registry\n' }] });
  });

  after(async () => {
    await podman?.cleanup();
    await b?.destroy();
    await work?.remove();
  });

  test("repository and registry URIs are on the public registry's address, as on public.ecr.aws", async () => {
    uri = JSON.parse(await aws('ecr-public', ['create-repository', '--repository-name', 'demo/hello'])).repository.repositoryUri;
    const registry = JSON.parse(await aws('ecr-public', ['describe-registries'])).registries[0];
    const alias = registry.aliases[0].name;
    assert.equal(uri, `${publicHost}/${alias}/demo/hello`);
    assert.equal(registry.registryUri, `${publicHost}/${alias}`);
  });

  test('podman logs in with get-login-password and pushes through the token endpoint', async () => {
    const password = (await aws('ecr-public', ['get-login-password'])).trim();
    podman = await createPodman();
    await podman.login(publicHost, password);
    const layout = join(tmpdir(), `berth-public-${randomBytes(6).toString('hex')}`);
    await cp(image.layout, layout, { recursive: true });
    await podman.cmd(['pull', `oci:${layout}:v1`]).finally(() => rm(layout, { recursive: true, force: true }));
    const local = (await podman.cmd(['images', '--format', '{{.ID}}'])).stdout.trim().split('\n')[0]!;
    await podman.cmd(['tag', local, `${uri}:v1`]);
    await podman.cmd(['push', '--tls-verify=false', `${uri}:v1`]);
    const tags = JSON.parse(await aws('ecr-public', ['describe-image-tags', '--repository-name', 'demo/hello'])).imageTagDetails;
    assert.deepEqual(tags.map((t: any) => t.imageTag), ['v1']);
    // skopeo with the same password pushes a second tag.
    await skopeo(['copy', '--dest-tls-verify=false', ...skopeoCreds('--dest-creds', password), image.ref, `docker://${uri}:skopeo`]);
  });

  test('a client with no credentials pulls: skopeo, podman, and the Docker engine\'s token flow', async () => {
    const inspected = await skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${uri}:skopeo`], { env: anonymousEnv, check: false });
    assert.equal(inspected.code, 0, inspected.stderr);
    assert.equal(inspected.stdout.trim(), image.manifest.toString('utf8').trim());
    const fresh = await createPodman();
    try {
      const pulled = await fresh.cmd(['pull', '--tls-verify=false', `${uri}:v1`], { check: false });
      assert.equal(pulled.code, 0, pulled.stderr);
    } finally {
      await fresh.cleanup();
    }

    // What the Docker engine does: ping, read the challenge, fetch a token without credentials, pull with it.
    const base = `http://${publicHost}`;
    const ping = await fetch(`${base}/v2/`);
    assert.equal(ping.status, 401);
    const challenge = bearerChallenge(ping.headers.get('www-authenticate'));
    assert.equal(challenge.realm, `${base}/token`);
    assert.equal(challenge.service, publicHost);
    const path = uri.slice(publicHost.length + 1);
    const tokenResponse = await fetch(`${challenge.realm}?service=${encodeURIComponent(challenge.service!)}&scope=${encodeURIComponent(`repository:${path}:pull`)}`);
    assert.equal(tokenResponse.status, 200);
    const { token } = (await tokenResponse.json()) as { token: string };
    assert.ok(token);
    const bearer = { authorization: `Bearer ${token}` };
    assert.equal((await fetch(`${base}/v2/`, { headers: bearer })).status, 200);
    const manifest = await fetch(`${base}/v2/${path}/manifests/skopeo`, { headers: { ...bearer, accept: image.mediaType } });
    assert.equal(manifest.status, 200);
    assert.equal(manifest.headers.get('docker-content-digest'), image.digest);
    const layer = await fetch(`${base}/v2/${path}/blobs/${image.layerDigests[0]}`, { headers: bearer });
    assert.equal(layer.status, 200);
    await layer.arrayBuffer();

    // The anonymous token pushes nothing, and a made-up token or wrong password opens nothing.
    const push = await fetch(`${base}/v2/${path}/manifests/anon`, { method: 'PUT', headers: { ...bearer, 'content-type': image.mediaType }, body: new Uint8Array(image.manifest) });
    assert.equal(push.status, 401);
    assert.equal((await fetch(`${base}/v2/${path}/manifests/skopeo`, { headers: { authorization: 'Bearer forged', accept: image.mediaType } })).status, 401);
    const wrong = await fetch(`${challenge.realm}?service=${challenge.service}`, { headers: { authorization: `Basic ${Buffer.from('AWS:not-a-token').toString('base64')}` } });
    assert.equal(wrong.status, 401);
  });

  test('private repositories are not reachable at the public registry', async () => {
    await aws('ecr', ['create-repository', '--repository-name', 'private/app']);
    const password = (await aws('ecr', ['get-login-password'])).trim();
    await skopeo(['copy', '--dest-tls-verify=false', ...skopeoCreds('--dest-creds', password), image.ref, `docker://${b.host}/private/app:v1`]);
    const there = await skopeo(['inspect', '--raw', '--tls-verify=false', ...skopeoCreds('--creds', password), `docker://${publicHost}/private/app:v1`], { check: false });
    assert.notEqual(there.code, 0, 'a private repository answered at the public registry');
    // The same public repository is still reachable under berth's own address too.
    const alias = uri.slice(publicHost.length + 1).split('/')[0];
    const viaMain = await skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${b.host}/ecr--public/${alias}/demo/hello:skopeo`], { env: anonymousEnv, check: false });
    assert.equal(viaMain.code, 0, viaMain.stderr);
  });
});
