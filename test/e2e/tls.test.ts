// berth over TLS: skopeo, podman and the aws CLI v2 push, pull and call the ECR API with the lab CA
// trusted and no insecure flag anywhere; a client that does not trust the CA is refused; HTTP/2
// pushes and pulls work; a renewed certificate is picked up without a restart.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { connect as netConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { connect as http2Connect } from 'node:http2';
import { join } from 'node:path';
import { Agent, fetch as undiciFetch } from 'undici';
import { AWS, awsCliEnv } from '../helpers/aws-cli.js';
import { labCertificates, startBerth, type Berth, type TlsFiles } from '../helpers/berth.js';
import { buildImage, type LayoutImage } from '../helpers/images.js';
import { blobPath, errorCodes, getManifest, listTags, memImage, pushMemImage, request } from '../helpers/oci.js';
import { createPodman, run, skopeo, skopeoCreds, tempDir, type Podman } from '../helpers/tools.js';

function sha256(data: Buffer): string {
  return 'sha256:' + createHash('sha256').update(data).digest('hex');
}

/** The certificate a fresh TLS connection is served, and the protocol ALPN chose. */
function handshake(b: Berth, opts: { ca?: Buffer; alpn?: string[] } = {}): Promise<{ fingerprint: string; authorized: boolean; error?: string; protocol: string | false | null }> {
  const url = new URL(b.url);
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: url.hostname, port: Number(url.port), ca: opts.ca, rejectUnauthorized: false, ALPNProtocols: opts.alpn ?? ['http/1.1'] }, () => {
      const cert = socket.getPeerX509Certificate();
      resolve({
        fingerprint: cert?.fingerprint256 ?? '',
        authorized: socket.authorized,
        error: socket.authorizationError?.toString(),
        protocol: socket.alpnProtocol,
      });
      socket.destroy();
    });
    socket.once('error', reject);
  });
}

const fingerprintOf = async (file: string) => new X509Certificate(await readFile(file)).fingerprint256;

/** curl over HTTPS trusting `ca`; returns the protocol version used, the status and the body. */
async function curl(b: Berth, args: string[], ca: string, out: string, basicAuth = true): Promise<{ version: string; status: number; body: Buffer }> {
  const auth = basicAuth && b.authHeader ? ['-H', `Authorization: ${b.authHeader}`] : [];
  const res = await run('curl', ['-sS', '--cacert', ca, '-o', out, '-w', '%{http_version} %{http_code}', ...auth, ...args]);
  const [version, status] = res.stdout.trim().split(' ');
  return { version: version!, status: Number(status), body: await readFile(out).catch(() => Buffer.alloc(0)) };
}

describe('berth over TLS with real clients', () => {
  let b: Berth;
  let tls: TlsFiles;
  let work: { path: string; remove: () => Promise<void> };
  let podman: Podman | undefined;
  let image: LayoutImage;
  let awsEnv: Record<string, string | undefined>;
  const withLog = (msg: string) => `${msg}\n--- server output ---\n${b.output().slice(-3000)}`;

  const aws = (args: string[], opts: { trust?: boolean } = {}) =>
    run(AWS, ['--endpoint-url', b.url, '--output', 'json', ...(opts.trust === false ? [] : ['--ca-bundle', tls.caFile]), 'ecr', ...args], { env: awsEnv, check: false, timeoutMs: 60_000 });
  const awsJson = async (args: string[]) => {
    const res = await aws(args);
    assert.equal(res.code, 0, withLog(`aws ecr ${args.join(' ')}: ${res.stderr}`));
    return JSON.parse(res.stdout) as Record<string, any>;
  };

  before(async () => {
    b = await startBerth({ tls: true });
    tls = b.tls!;
    work = await tempDir('tls');
    awsEnv = {
      ...(await awsCliEnv(b)),
      // An empty AWS_CA_BUNDLE turns verification off in the CLI: make sure none is inherited.
      AWS_CA_BUNDLE: undefined,
    };
    image = await buildImage({
      layout: join(work.path, 'src'),
      tag: 'v1',
      files: [
        { path: '/etc/motd', content: 'hello over TLS\n' },
        { path: '/srv/data.bin', content: Buffer.alloc(300_000, 7) },
      ],
    });
  });

  after(async () => {
    await podman?.cleanup();
    await b?.destroy();
    await work?.remove();
  });

  test('the URLs berth hands out are https: base URL, Basic realm, proxyEndpoint', async () => {
    assert.match(b.url, /^https:\/\//);
    const res = await b.fetch('/v2/', { headers: { authorization: '' } });
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('www-authenticate'), `Basic realm="${b.url}/",service="ecr.amazonaws.com"`);
    const token = await awsJson(['get-authorization-token']);
    assert.equal(token.authorizationData[0].proxyEndpoint, b.url);
  });

  test('aws CLI v2 with --ca-bundle: create-repository, get-login-password, an https layer download URL; skopeo pushes and pulls with the CA in --cert-dir', async () => {
    const created = (await awsJson(['create-repository', '--repository-name', 'tls/app'])).repository;
    assert.equal(created.repositoryUri, `${b.host}/tls/app`);
    const login = await aws(['get-login-password']);
    assert.equal(login.code, 0, login.stderr);
    const password = login.stdout.trim();

    await skopeo(['copy', '--preserve-digests', '--dest-cert-dir', tls.certDir, ...skopeoCreds('--dest-creds', password), image.ref, `docker://${b.host}/tls/app:v1`]);
    const inspected = await skopeo(['inspect', '--raw', '--cert-dir', tls.certDir, ...skopeoCreds('--creds', password), `docker://${b.host}/tls/app:v1`]);
    assert.equal(inspected.stdout, image.manifest.toString('utf8'));
    const out = join(work.path, 'pulled');
    await skopeo(['copy', '--preserve-digests', '--src-cert-dir', tls.certDir, ...skopeoCreds('--src-creds', password), `docker://${b.host}/tls/app:v1`, `oci:${out}:v1`]);
    const index = JSON.parse(await readFile(join(out, 'index.json'), 'utf8')) as { manifests: Array<{ digest: string }> };
    assert.equal(index.manifests[0]!.digest, image.digest);
    for (const layer of image.layerDigests) {
      const bytes = await readFile(join(out, 'blobs', 'sha256', layer.slice('sha256:'.length)));
      assert.equal(sha256(bytes), layer);
    }

    const described = await awsJson(['describe-images', '--repository-name', 'tls/app']);
    assert.deepEqual(described.imageDetails.map((d: { imageDigest: string }) => d.imageDigest), [image.digest]);
    const download = await awsJson(['get-download-url-for-layer', '--repository-name', 'tls/app', '--layer-digest', image.layerDigests[0]!]);
    assert.ok(download.downloadUrl.startsWith(`${b.url}/`), download.downloadUrl);
    const layer = await undiciFetch(download.downloadUrl, { dispatcher: new Agent({ connect: { ca: await readFile(tls.caFile) } }) });
    assert.equal(layer.status, 200);
    assert.equal(sha256(Buffer.from(await layer.arrayBuffer())), image.layerDigests[0]);
  });

  test('podman logs in, pulls and pushes with the CA in --cert-dir', async () => {
    await b.createRepository('tls/podman');
    podman = await createPodman();
    await podman.cmd(['login', '--username', 'AWS', '--password-stdin', '--cert-dir', tls.certDir, b.host], { input: b.password });
    await podman.cmd(['pull', '--cert-dir', tls.certDir, `${b.host}/tls/app:v1`]);
    await podman.cmd(['tag', `${b.host}/tls/app:v1`, `${b.host}/tls/podman:v2`]);
    await podman.cmd(['push', '--cert-dir', tls.certDir, '--format', 'oci', `${b.host}/tls/podman:v2`]);
    const tags = await awsJson(['list-images', '--repository-name', 'tls/podman']);
    assert.deepEqual(tags.imageIds.map((i: { imageTag: string }) => i.imageTag), ['v2']);
  });

  test('a client that does not trust the CA is refused: skopeo, podman, the aws CLI, node', async () => {
    const inspect = await skopeo(['inspect', '--raw', ...skopeoCreds('--creds', b.password), `docker://${b.host}/tls/app:v1`], { check: false });
    assert.notEqual(inspect.code, 0);
    assert.match(inspect.stderr, /x509: certificate signed by unknown authority/);

    podman ??= await createPodman();
    const pull = await podman.cmd(['pull', `${b.host}/tls/app:v1`], { check: false });
    assert.notEqual(pull.code, 0);
    assert.match(pull.stderr, /x509: certificate signed by unknown authority/);

    const cli = await aws(['describe-repositories'], { trust: false });
    assert.notEqual(cli.code, 0);
    assert.match(cli.stderr, /SSL validation failed|CERTIFICATE_VERIFY_FAILED/);

    await assert.rejects(fetch(`${b.url}/v2/`), (err: Error & { cause?: { code?: string } }) => err.cause?.code === 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' || err.cause?.code === 'SELF_SIGNED_CERT_IN_CHAIN');
    const served = await handshake(b);
    assert.equal(served.authorized, false);
    const trusted = await handshake(b, { ca: await readFile(tls.caFile) });
    assert.equal(trusted.authorized, true, trusted.error);
  });

  test('HTTP/2: ALPN offers h2 and http/1.1; a blob pushed (monolithic and chunked) and pulled over h2 with curl comes back byte for byte', async () => {
    const ca = await readFile(tls.caFile);
    assert.equal((await handshake(b, { ca, alpn: ['h2', 'http/1.1'] })).protocol, 'h2');
    assert.equal((await handshake(b, { ca, alpn: ['http/1.1'] })).protocol, 'http/1.1');

    await b.createRepository('tls/h2');
    const data = Buffer.alloc(3 * 1024 * 1024 + 17);
    for (let i = 0; i < data.length; i++) data[i] = (i * 31 + (i >> 13)) & 0xff;
    const digest = sha256(data);
    const file = join(work.path, 'blob.bin');
    await writeFile(file, data);
    const body = join(work.path, 'body');
    const h2 = ['--http2'];

    // Monolithic: POST, then PUT with the whole body.
    const headers = join(work.path, 'headers');
    const post = await curl(b, [...h2, '-D', headers, '-X', 'POST', `${b.url}/v2/tls/h2/blobs/uploads/`], tls.caFile, body);
    assert.equal(post.version, '2');
    assert.equal(post.status, 202, withLog(post.body.toString()));
    const location = /^location: (.*)$/im.exec(await readFile(headers, 'utf8'))![1]!.trim();
    const put = await curl(b, [...h2, '-X', 'PUT', '-H', 'Content-Type: application/octet-stream', '--data-binary', `@${file}`, new URL(`${location}${location.includes('?') ? '&' : '?'}digest=${digest}`, b.url).href], tls.caFile, body);
    assert.equal(put.status, 201, withLog(put.body.toString()));

    // Pull it back over h2, whole and by range.
    const pulled = await curl(b, [...h2, `${b.url}/v2/tls/h2/blobs/${digest}`], tls.caFile, body);
    assert.equal(pulled.version, '2');
    assert.equal(pulled.status, 200);
    assert.equal(pulled.body.length, data.length);
    assert.equal(sha256(pulled.body), digest);
    const ranged = await curl(b, [...h2, '-H', 'Range: bytes=1000-1999', `${b.url}/v2/tls/h2/blobs/${digest}`], tls.caFile, body);
    assert.equal(ranged.status, 206);
    assert.deepEqual(ranged.body, data.subarray(1000, 2000));
    const head = await curl(b, [...h2, '-I', `${b.url}/v2/tls/h2/blobs/${digest}`], tls.caFile, body);
    assert.equal(head.status, 200);

    // Chunked: PATCH parts, then an empty PUT.
    const other = Buffer.concat([data, Buffer.from('chunked')]);
    const otherDigest = sha256(other);
    const post2 = await curl(b, [...h2, '-D', headers, '-X', 'POST', `${b.url}/v2/tls/h2/blobs/uploads/`], tls.caFile, body);
    assert.equal(post2.status, 202);
    let loc = /^location: (.*)$/im.exec(await readFile(headers, 'utf8'))![1]!.trim();
    const half = 2 * 1024 * 1024;
    for (const [start, end] of [[0, half], [half, other.length]] as const) {
      await writeFile(file, other.subarray(start, end));
      const patch = await curl(b, [...h2, '-D', headers, '-X', 'PATCH', '-H', 'Content-Type: application/octet-stream', '-H', `Content-Range: ${start}-${end - 1}`, '--data-binary', `@${file}`, new URL(loc, b.url).href], tls.caFile, body);
      assert.equal(patch.status, 202, withLog(patch.body.toString()));
      loc = /^location: (.*)$/im.exec(await readFile(headers, 'utf8'))![1]!.trim();
    }
    const close = await curl(b, [...h2, '-X', 'PUT', new URL(`${loc}${loc.includes('?') ? '&' : '?'}digest=${otherDigest}`, b.url).href], tls.caFile, body);
    assert.equal(close.status, 201, withLog(close.body.toString()));

    // undici negotiating h2 pulls the same bytes, several streams on one connection at once.
    const dispatcher = new Agent({ allowH2: true, connect: { ca } });
    const pulls = await Promise.all(
      [digest, otherDigest, digest].map(async (d) => {
        const res = await undiciFetch(`${b.url}/v2/tls/h2/blobs/${d}`, { dispatcher, headers: { authorization: b.authHeader ?? '' } });
        assert.equal(res.status, 200);
        return sha256(Buffer.from(await res.arrayBuffer()));
      }),
    );
    assert.deepEqual(pulls, [digest, otherDigest, digest]);
    await dispatcher.close();
  });

  test('an image pushed and pulled with every /v2 call over HTTP/2 (undici allowH2): blobs, manifest, tags, mount, delete', async () => {
    const dispatcher = new Agent({ allowH2: true, connect: { ca: await readFile(tls.caFile), ALPNProtocols: ['h2'] } });
    const h2fetch = (url: string | URL, init: RequestInit = {}) => {
      const headers = new Headers(init.headers);
      if (b.authHeader && !headers.has('authorization')) headers.set('authorization', b.authHeader);
      return undiciFetch(url, { ...init, headers: Object.fromEntries(headers), dispatcher } as unknown as Parameters<typeof undiciFetch>[1]) as unknown as Promise<Response>;
    };
    const viaH2 = new Proxy(b, { get: (target, prop) => (prop === 'fetch' ? h2fetch : Reflect.get(target, prop)) });
    try {
      await b.createRepository('tls/h2-image');
      await b.createRepository('tls/h2-mount');
      const img = memImage([{ 'etc/hello': 'hello over h2\n' }, { 'srv/data': Buffer.alloc(200_000, 5) }]);
      await pushMemImage(viaH2, 'tls/h2-image', 'v1', img);
      const got = await getManifest(viaH2, 'tls/h2-image', 'v1');
      assert.equal(got.status, 200);
      assert.deepEqual(got.body, img.manifest);
      const head = await getManifest(viaH2, 'tls/h2-image', 'v1', 'HEAD');
      assert.equal(head.status, 200);
      assert.equal(head.body.length, 0);
      for (const blob of img.blobs) {
        const pulled = await request(viaH2, 'GET', blobPath('tls/h2-image', blob.digest));
        assert.equal(pulled.status, 200);
        assert.equal(sha256(pulled.body), blob.digest);
      }
      assert.deepEqual((await listTags(viaH2, 'tls/h2-image')).tags, ['v1']);
      const mount = await request(viaH2, 'POST', `/v2/tls/h2-mount/blobs/uploads/?mount=${img.blobs[0]!.digest}&from=tls/h2-image`);
      assert.equal(mount.status, 201, mount.describe());
      const missing = await request(viaH2, 'GET', blobPath('tls/h2-image', 'sha256:' + '0'.repeat(64)));
      assert.equal(missing.status, 404);
      assert.deepEqual(errorCodes(missing), ['BLOB_UNKNOWN']);
      const deleted = await request(viaH2, 'DELETE', `/v2/tls/h2-image/manifests/${sha256(img.manifest)}`);
      assert.equal(deleted.status, 202, deleted.describe());
    } finally {
      await dispatcher.close();
    }
  });

  test('policies see aws:SecureTransport true over TLS: a Deny on insecure transport lets TLS calls through (HTTP/1.1, h2, /v2)', async () => {
    const iam = async (args: string[]) => {
      const res = await run(AWS, ['--endpoint-url', b.url, '--output', 'json', '--ca-bundle', tls.caFile, 'iam', ...args], { env: awsEnv, check: false, timeoutMs: 60_000 });
      assert.equal(res.code, 0, withLog(`aws iam ${args.join(' ')}: ${res.stderr}`));
      return res.stdout ? (JSON.parse(res.stdout) as Record<string, any>) : {};
    };
    await iam(['create-user', '--user-name', 'tls-only']);
    await iam(['put-user-policy', '--user-name', 'tls-only', '--policy-name', 'tls-only', '--policy-document', JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Action: 'ecr:*', Resource: '*' },
        { Effect: 'Deny', Action: '*', Resource: '*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } },
      ],
    })]);
    const key = (await iam(['create-access-key', '--user-name', 'tls-only'])).AccessKey as { AccessKeyId: string; SecretAccessKey: string };
    const asUser = { ...awsEnv, AWS_ACCESS_KEY_ID: key.AccessKeyId, AWS_SECRET_ACCESS_KEY: key.SecretAccessKey };
    const described = await run(AWS, ['--endpoint-url', b.url, '--output', 'json', '--ca-bundle', tls.caFile, 'ecr', 'describe-repositories', '--repository-names', 'tls/app'], { env: asUser, check: false, timeoutMs: 60_000 });
    assert.equal(described.code, 0, withLog(described.stderr));
    const h2 = await curl(
      b,
      [
        '--http2',
        '--aws-sigv4', `aws:amz:${awsEnv.AWS_DEFAULT_REGION!}:ecr`,
        '--user', `${key.AccessKeyId}:${key.SecretAccessKey}`,
        '-H', 'Content-Type: application/x-amz-json-1.1',
        '-H', 'X-Amz-Target: AmazonEC2ContainerRegistry_V20150921.DescribeRepositories',
        '--data', '{"repositoryNames":["tls/app"]}',
        `${b.url}/`,
      ],
      tls.caFile,
      join(work.path, 'secure-transport-body'),
      false,
    );
    assert.equal(h2.version, '2');
    assert.equal(h2.status, 200, withLog(h2.body.toString()));
    const login = await run(AWS, ['--endpoint-url', b.url, '--ca-bundle', tls.caFile, 'ecr', 'get-login-password'], { env: asUser, check: false, timeoutMs: 60_000 });
    assert.equal(login.code, 0, login.stderr);
    const inspected = await skopeo(['inspect', '--raw', '--cert-dir', tls.certDir, ...skopeoCreds('--creds', login.stdout.trim()), `docker://${b.host}/tls/app:v1`]);
    assert.equal(inspected.stdout, image.manifest.toString('utf8'));
  });

  test('the ECR API over HTTP/2, signed with SigV4', async () => {
    // The ECR JSON API over h2: curl carries no Host header, only :authority, which SigV4 signs as host.
    const res = await curl(
      b,
      [
        '--http2',
        '--aws-sigv4', `aws:amz:${awsEnv.AWS_DEFAULT_REGION!}:ecr`,
        '--user', `${awsEnv.AWS_ACCESS_KEY_ID!}:${awsEnv.AWS_SECRET_ACCESS_KEY!}`,
        '-H', 'Content-Type: application/x-amz-json-1.1',
        '-H', 'X-Amz-Target: AmazonEC2ContainerRegistry_V20150921.DescribeRepositories',
        '--data', '{"repositoryNames":["tls/app"]}',
        `${b.url}/`,
      ],
      tls.caFile,
      join(work.path, 'ecr-body'),
      false,
    );
    assert.equal(res.version, '2');
    assert.equal(res.status, 200, withLog(res.body.toString()));
    assert.equal((JSON.parse(res.body.toString()) as { repositories: Array<{ repositoryUri: string }> }).repositories[0]!.repositoryUri, `${b.host}/tls/app`);
  });
});

describe('TLS certificate renewal and connection limits', () => {
  let b: Berth;
  let work: { path: string; remove: () => Promise<void> };
  const TIMEOUT_SECONDS = 2;
  const PER_CLIENT = 24;

  before(async () => {
    b = await startBerth({
      tls: true,
      env: {
        BERTH_HEADERS_TIMEOUT: String(TIMEOUT_SECONDS),
        BERTH_INACTIVITY_TIMEOUT: String(TIMEOUT_SECONDS),
        BERTH_IDLE_TIMEOUT: String(TIMEOUT_SECONDS),
        BERTH_MAX_CONNECTIONS_PER_CLIENT: String(PER_CLIENT),
        BERTH_MAX_BLOB_BYTES: '1000',
        BERTH_CREATE_ON_PUSH: 'true',
      },
    });
    work = await tempDir('tls-renew');
  });

  after(async () => {
    await b?.destroy();
    await work?.remove();
  });

  test('replacing the certificate and key files: a half-written pair is ignored, the complete one serves new connections without a restart', async () => {
    const tls = b.tls!;
    const pid = b.pid();
    const oldCa = await readFile(tls.caFile);
    assert.equal((await handshake(b)).fingerprint, await fingerprintOf(tls.certFile));

    const renewed = await labCertificates();
    try {
      // Only the certificate so far: it does not match the key, so berth keeps the old pair.
      await writeFile(tls.certFile, await readFile(renewed.certFile));
      await new Promise((r) => setTimeout(r, 6500));
      const during = await handshake(b, { ca: oldCa });
      assert.equal(during.authorized, true, 'still served the old certificate while the pair was half-written');
      const healthy = await undiciFetch(`${b.url}/healthz`, { dispatcher: new Agent({ connect: { ca: oldCa } }) });
      assert.equal(healthy.status, 200);

      await writeFile(tls.keyFile, await readFile(renewed.keyFile));
      const wanted = await fingerprintOf(renewed.certFile);
      const deadline = Date.now() + 15_000;
      let served = '';
      while (Date.now() < deadline && (served = (await handshake(b)).fingerprint) !== wanted) await new Promise((r) => setTimeout(r, 250));
      assert.equal(served, wanted, 'new connections get the renewed certificate');
      assert.equal(b.pid(), pid, 'no restart');

      const newCa = await readFile(renewed.caFile);
      for (const allowH2 of [false, true]) {
        const res = await undiciFetch(`${b.url}/v2/`, { dispatcher: new Agent({ allowH2, connect: { ca: newCa } }) });
        assert.ok(res.status === 401 || res.status === 200);
      }
      assert.equal((await handshake(b, { ca: oldCa })).authorized, false, 'the old CA no longer vouches for what is served');
      // Later tests trust the CA that signed what is served now.
      await writeFile(tls.caFile, newCa);
    } finally {
      await rm(renewed.dir, { recursive: true, force: true });
    }
  });

  test('a connection that never completes the handshake, and one idle after it (HTTP/1.1 and h2), are closed by the timeouts', async () => {
    const url = new URL(b.url);
    const raw = netConnect(Number(url.port), url.hostname);
    raw.on('error', () => undefined);
    const rawClosed = new Promise<number>((r) => {
      const t = Date.now();
      raw.on('close', () => r(Date.now() - t));
    });

    const idle = (alpn: string) =>
      new Promise<number>((resolve, reject) => {
        const socket = tlsConnect({ host: url.hostname, port: Number(url.port), rejectUnauthorized: false, ALPNProtocols: [alpn] }, () => {
          const t = Date.now();
          socket.on('close', () => resolve(Date.now() - t));
        });
        socket.on('data', () => undefined);
        socket.once('error', (err) => (socket.readyState === 'closed' ? undefined : reject(err)));
      });
    const [handshakeless, http1, h2] = await Promise.all([rawClosed, idle('http/1.1'), idle('h2')]);
    for (const [name, ms] of [['no handshake', handshakeless], ['idle HTTP/1.1', http1], ['idle h2', h2]] as const) {
      assert.ok(ms < (TIMEOUT_SECONDS + 3) * 1000, `${name} connection closed after ${ms} ms`);
    }
  });

  test('over HTTP/2, a body announced too large is refused with SIZE_INVALID before it is read, and the connection serves on', async () => {
    const session = http2Connect(b.url, { ca: await readFile(b.tls!.caFile) });
    session.on('error', () => undefined);
    const exchange = (headers: Record<string, string>, body?: Buffer) =>
      new Promise<{ status: number; headers: Record<string, unknown>; body: string }>((resolve, reject) => {
        const stream = session.request({ ...(b.authHeader ? { authorization: b.authHeader } : {}), ...headers });
        let response: Record<string, unknown> = {};
        const chunks: Buffer[] = [];
        stream.on('response', (h) => (response = h));
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => resolve({ status: Number(response[':status']), headers: response, body: Buffer.concat(chunks).toString() }));
        stream.on('error', (err) => (response[':status'] ? resolve({ status: Number(response[':status']), headers: response, body: Buffer.concat(chunks).toString() }) : reject(err)));
        if (body) stream.end(body);
        else stream.end();
      });
    try {
      const started = await exchange({ ':method': 'POST', ':path': '/v2/limits/h2/blobs/uploads/' });
      assert.equal(started.status, 202, started.body);
      const location = String(started.headers.location);
      const big = Buffer.alloc(5000, 1);
      const refused = await exchange({ ':method': 'PUT', ':path': `${location}${location.includes('?') ? '&' : '?'}digest=${sha256(big)}`, 'content-length': String(big.length) }, big);
      assert.equal(refused.status, 413);
      assert.match(refused.body, /SIZE_INVALID/);
      assert.equal(refused.headers.connection, undefined, 'no connection header on HTTP/2');
      const after = await exchange({ ':method': 'GET', ':path': '/healthz' });
      assert.equal(after.status, 200);
      assert.doesNotMatch(b.output(), /UnsupportedWarning|connection header/i);
    } finally {
      session.close();
    }
  });

  test('one client address cannot hold more TLS connections than its share; the cap counts before the handshake', async () => {
    const url = new URL(b.url);
    const ca = await readFile(b.tls!.caFile);
    const open = (alpn: string) =>
      new Promise<{ socket: ReturnType<typeof tlsConnect>; ok: boolean }>((resolve) => {
        const socket = tlsConnect({ host: url.hostname, port: Number(url.port), ca, ALPNProtocols: [alpn] }, () => resolve({ socket, ok: true }));
        socket.once('error', () => resolve({ socket, ok: false }));
        socket.once('close', () => resolve({ socket, ok: false }));
      });
    // Let the idle timeout close the keep-alive connections earlier requests left open, then take the whole share at once.
    await new Promise((r) => setTimeout(r, (TIMEOUT_SECONDS + 1) * 1000));
    const held = await Promise.all(Array.from({ length: PER_CLIENT }, (_, i) => open(i % 2 ? 'h2' : 'http/1.1')));
    try {
      assert.ok(held.every((c) => c.ok), `connections up to the cap are served: ${held.map((c) => (c.ok ? 'ok' : c.socket.errored?.message ?? 'closed')).join(', ')}`);
      const extra = await open('http/1.1');
      assert.equal(extra.ok, false, 'one more is closed before its handshake completes');
    } finally {
      for (const c of held) c.socket.destroy();
    }
    // Once they are gone, the address may connect again.
    let again = false;
    for (let i = 0; i < 20 && !again; i++) {
      await new Promise((r) => setTimeout(r, 100));
      const c = await open('h2');
      again = c.ok;
      c.socket.destroy();
    }
    assert.ok(again);
  });
});
