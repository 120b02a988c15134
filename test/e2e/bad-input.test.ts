// Malformed and hostile requests on /v2: each gets a 4xx with the spec's error shape, and changes nothing.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { startBerth, type Berth } from '../helpers/berth.js';
import { MediaType, blobPath, errorCodes, finishUpload, listTags, memImage, pushMemImage, request, sha256, startUpload, type Exchange } from '../helpers/oci.js';

const REPO = 'bad/target';
let b: Berth;
let image: ReturnType<typeof memImage>;
let catalogBefore: string[];

interface Raw {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A request whose path goes out byte for byte (fetch would resolve dot segments first). */
function raw(method: string, path: string, opts: { headers?: Record<string, string>; body?: Buffer } = {}): Promise<Raw> {
  const url = new URL(b.url);
  const headers: Record<string, string> = { ...opts.headers };
  if (b.authHeader) headers.authorization = b.authHeader;
  if (opts.body) headers['content-length'] ??= String(opts.body.length);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: url.hostname, port: url.port, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

function codeOf(r: Raw | Exchange): string | undefined {
  const text = 'text' in r && typeof r.text === 'function' ? r.text() : (r as Raw).body;
  try {
    return (JSON.parse(text) as { errors?: Array<{ code: string }> }).errors?.[0]?.code;
  } catch {
    return undefined;
  }
}

function describeRaw(r: Raw | Exchange): string {
  return 'describe' in r ? r.describe() : `${r.status} ${r.body.slice(0, 300)}`;
}

/** Status must be one of `statuses`; if the body is an OCI error its code must be one of `codes`. */
function expectRefused(r: Raw | Exchange, statuses: number[], codes: string[]): void {
  assert.ok(statuses.includes(r.status), `expected ${statuses.join('/')}, got ${describeRaw(r)}`);
  if (codes.length > 0) assert.ok(codes.includes(codeOf(r) ?? ''), `expected one of ${codes.join(', ')}, got ${describeRaw(r)}`);
}

async function tagsNow(): Promise<string[]> {
  return (await listTags(b, REPO)).tags;
}

async function catalogNow(): Promise<string[]> {
  return (await request(b, 'GET', '/v2/_catalog')).json<{ repositories: string[] }>().repositories;
}

async function blobExists(repo: string, digest: string): Promise<boolean> {
  const r = await request(b, 'HEAD', blobPath(repo, digest));
  assert.ok(r.status === 200 || r.status === 404, r.describe());
  return r.status === 200;
}

before(async () => {
  b = await startBerth({ env: { BERTH_CREATE_ON_PUSH: 'true' } });
  image = memImage([{ 'hello.txt': 'hello' }]);
  await pushMemImage(b, REPO, 'good', image);
  catalogBefore = await catalogNow();
});
after(async () => b?.destroy());

describe('manifests', () => {
  const put = (ref: string, body: Buffer | string, contentType: string = MediaType.ociManifest, repo = REPO) =>
    raw('PUT', `/v2/${repo}/manifests/${ref}`, { headers: { 'content-type': contentType }, body: Buffer.from(body) });

  it('malformed JSON and bad shapes -> 400 MANIFEST_INVALID, no tag created', async () => {
    const bodies = ['{', '', 'null', '[]', '"x"', '{"schemaVersion":2}', '{"schemaVersion":1,"layers":[]}', JSON.stringify({ schemaVersion: 2, config: {}, layers: [] }), '\u0000\u0001'];
    for (const body of bodies) expectRefused(await put('broken', body), [400], ['MANIFEST_INVALID']);
    assert.deepEqual(await tagsNow(), ['good']);
  });

  it('unknown media types -> 400 MANIFEST_INVALID', async () => {
    const doc = JSON.parse(image.manifest.toString()) as Record<string, unknown>;
    delete doc.mediaType;
    expectRefused(await put('mt', JSON.stringify(doc), 'application/x-made-up'), [400, 415], ['MANIFEST_INVALID', 'UNSUPPORTED']);
    expectRefused(await put('mt', JSON.stringify({ ...doc, mediaType: 'application/x-made-up' })), [400, 415], ['MANIFEST_INVALID', 'UNSUPPORTED']);
    expectRefused(await put('mt', image.manifest, MediaType.dockerManifest), [400], ['MANIFEST_INVALID']);
    assert.deepEqual(await tagsNow(), ['good']);
  });

  it('PUT by a digest that does not match the body -> 400 DIGEST_INVALID, nothing stored', async () => {
    const other = sha256('something else');
    expectRefused(await put(other, image.manifest), [400], ['DIGEST_INVALID']);
    expectRefused(await raw('HEAD', `/v2/${REPO}/manifests/${other}`), [404], []);
    const changed = Buffer.from(image.manifest.toString().replace('"schemaVersion":2', '"schemaVersion": 2'));
    expectRefused(await put(sha256(image.manifest), changed), [400], ['DIGEST_INVALID']);
    expectRefused(await raw('HEAD', `/v2/${REPO}/manifests/${sha256(changed)}`), [404], []);
  });

  it('invalid tags on PUT -> 400, tag list unchanged', async () => {
    for (const tag of ['-lead', '.dot', 'a'.repeat(129), 'has%20space', 'semi;colon', 'UPPER%2Fslash']) {
      expectRefused(await put(tag, image.manifest), [400], ['TAG_INVALID', 'MANIFEST_INVALID', 'NAME_INVALID']);
    }
    assert.deepEqual(await tagsNow(), ['good']);
  });

  it('manifest referencing unknown blobs -> 400 MANIFEST_BLOB_UNKNOWN; index with unknown child -> 400/404', async () => {
    const img = memImage([{ 'other.txt': randomBytes(8).toString('hex') }]);
    expectRefused(await put('missing-blobs', img.manifest), [400], ['MANIFEST_BLOB_UNKNOWN']);
    const index = JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [{ mediaType: MediaType.ociManifest, digest: sha256('nope'), size: 4 }] });
    expectRefused(await put('missing-child', index, MediaType.ociIndex), [400, 404], ['MANIFEST_BLOB_UNKNOWN', 'MANIFEST_UNKNOWN', 'MANIFEST_INVALID']);
    assert.deepEqual(await tagsNow(), ['good']);
  });

  /**
   * PUTs a manifest over a raw request, sending the body with `send` (which may stop early once
   * `answered()`), and resolves with the answer, which must come without the rest of the body.
   */
  function rawManifestPut(extraHeaders: Record<string, string>, send: (req: http.ClientRequest, answered: () => boolean) => void): Promise<Raw> {
    const url = new URL(b.url);
    const headers: Record<string, string> = { 'content-type': MediaType.ociManifest, ...extraHeaders };
    if (b.authHeader) headers.authorization = b.authHeader;
    return new Promise<Raw>((resolve, reject) => {
      const req = http.request({ host: url.hostname, port: url.port, method: 'PUT', path: `/v2/${REPO}/manifests/huge`, headers, agent: false }, (r) => {
        const chunks: Buffer[] = [];
        r.on('data', (c: Buffer) => chunks.push(c));
        r.on('end', () => {
          req.destroy();
          resolve({ status: r.statusCode ?? 0, headers: r.headers, body: Buffer.concat(chunks).toString() });
        });
      });
      let answered = false;
      req.on('response', () => (answered = true));
      req.on('error', (err) => {
        if (!answered) reject(new Error(`connection failed before the answer: ${err.message}`));
      });
      send(req, () => answered);
      setTimeout(() => reject(new Error('no answer to an oversized manifest within 10 s')), 10_000).unref();
    });
  }

  it('oversized manifest (Content-Length > 4 MiB) -> 413 before the body is sent', async () => {
    // Only the first bytes ever go out: the answer must come without the rest.
    const res = await rawManifestPut({ 'content-length': String(5 * 1024 * 1024) }, (req) => req.write(Buffer.alloc(1024, 0x20)));
    expectRefused(res, [413], ['MANIFEST_INVALID', 'SIZE_INVALID']);
    assert.deepEqual(await tagsNow(), ['good']);
  });

  it('oversized manifest without Content-Length (chunked) -> 413', async () => {
    const res = await rawManifestPut({ 'transfer-encoding': 'chunked' }, (req, answered) => {
      const piece = Buffer.alloc(256 * 1024, 0x20);
      let sent = 0;
      const pump = () => {
        while (sent < 6 * 1024 * 1024 && !answered()) {
          sent += piece.length;
          if (!req.write(piece)) return void req.once('drain', pump);
        }
        req.end();
      };
      pump();
    });
    expectRefused(res, [413], ['MANIFEST_INVALID', 'SIZE_INVALID']);
    assert.deepEqual(await tagsNow(), ['good']);
  });

  it('a refused push does not create the repository (create-on-push)', async () => {
    expectRefused(await put('x', '{', MediaType.ociManifest, 'bad/never-created'), [400], ['MANIFEST_INVALID']);
    expectRefused(await raw('POST', `/v2/bad/never-created/blobs/uploads/?digest=md5:${'a'.repeat(32)}`, { body: Buffer.from('x') }), [400], ['DIGEST_INVALID']);
    assert.deepEqual(await catalogNow(), catalogBefore);
  });
});

describe('blobs and uploads', () => {
  it('PUT finishing an upload with the wrong digest -> 400 DIGEST_INVALID; nothing stored', async () => {
    const data = randomBytes(50);
    const wrong = sha256('not the data');
    const post = await startUpload(b, REPO);
    const put = await finishUpload(b, post.location, wrong, data);
    expectRefused(put, [400], ['DIGEST_INVALID']);
    assert.equal(await blobExists(REPO, wrong), false);
    assert.equal(await blobExists(REPO, sha256(data)), false);
  });

  it('monolithic POST with the wrong digest -> 400; nothing stored', async () => {
    const data = randomBytes(50);
    const wrong = sha256('wrong');
    const r = await raw('POST', `/v2/${REPO}/blobs/uploads/?digest=${wrong}`, { headers: { 'content-type': 'application/octet-stream' }, body: data });
    expectRefused(r, [400], ['DIGEST_INVALID']);
    assert.equal(await blobExists(REPO, wrong), false);
    assert.equal(await blobExists(REPO, sha256(data)), false);
  });

  it('unsupported digest algorithms (md5, sha384) and junk digests -> 400 DIGEST_INVALID everywhere', async () => {
    const digests = [`md5:${'a'.repeat(32)}`, `sha384:${'a'.repeat(96)}`, 'sha256:xyz', `sha256:${'A'.repeat(64)}`];
    for (const d of digests) {
      expectRefused(await raw('GET', blobPath(REPO, d)), [400], ['DIGEST_INVALID']);
      expectRefused(await raw('HEAD', blobPath(REPO, d)), [400], []);
      expectRefused(await raw('DELETE', blobPath(REPO, d)), [400], ['DIGEST_INVALID']);
      expectRefused(await raw('GET', `/v2/${REPO}/manifests/${d}`), [400], ['DIGEST_INVALID']);
      expectRefused(await raw('DELETE', `/v2/${REPO}/manifests/${d}`), [400], ['DIGEST_INVALID']);
      expectRefused(await raw('GET', `/v2/${REPO}/referrers/${d}`), [400], ['DIGEST_INVALID']);
      expectRefused(await raw('POST', `/v2/${REPO}/blobs/uploads/?digest=${encodeURIComponent(d)}`, { body: Buffer.from('abc') }), [400], ['DIGEST_INVALID']);
      const post = await startUpload(b, REPO);
      expectRefused(await finishUpload(b, post.location, d, Buffer.from('abc')), [400], ['DIGEST_INVALID']);
    }
    const post = await startUpload(b, REPO);
    expectRefused(await request(b, 'PUT', post.location, { body: 'abc' }), [400], ['DIGEST_INVALID']);
  });

  it('Content-Range gaps and overlaps -> 416 with the current Range; the upload is unchanged', async () => {
    const data = randomBytes(30);
    const post = await startUpload(b, REPO);
    const patch = (start: number, end: number) =>
      request(b, 'PATCH', post.location, {
        headers: { 'content-type': 'application/octet-stream', 'content-range': `${start}-${end}`, 'content-length': String(end - start + 1) },
        body: data.subarray(start, end + 1),
      });
    assert.equal((await patch(0, 9)).status, 202);
    for (const [s, e] of [[11, 19], [5, 14], [0, 9], [9, 9]] as const) {
      const r = await patch(s, e);
      expectRefused(r, [416], ['BLOB_UPLOAD_INVALID', 'RANGE_INVALID']);
      assert.equal(r.headers.get('range'), '0-9', r.describe());
    }
    for (const bad of ['garbage', '5-2', '-3', 'bytes=a-b']) {
      const r = await request(b, 'PATCH', post.location, { headers: { 'content-range': bad, 'content-type': 'application/octet-stream' }, body: data.subarray(10, 20) });
      expectRefused(r, [400, 416], ['BLOB_UPLOAD_INVALID']);
    }
    const mismatch = await request(b, 'PATCH', post.location, { headers: { 'content-range': '10-19', 'content-type': 'application/octet-stream' }, body: data.subarray(10, 15) });
    expectRefused(mismatch, [400, 416], ['BLOB_UPLOAD_INVALID', 'SIZE_INVALID']);
    const status = await request(b, 'GET', post.location);
    assert.equal(status.status, 204);
    assert.equal(status.headers.get('range'), '0-9');
    assert.equal((await patch(10, 29)).status, 202);
    assert.equal((await finishUpload(b, post.location, sha256(data))).status, 201);
    assert.equal(await blobExists(REPO, sha256(data)), true);
  });

  it('unknown or malformed upload ids -> 404 BLOB_UPLOAD_UNKNOWN', async () => {
    for (const id of ['00000000-0000-0000-0000-000000000000', 'not-an-id', '..%2f..%2fetc%2fpasswd', '%00']) {
      expectRefused(await raw('GET', `/v2/${REPO}/blobs/uploads/${id}`), [404, 400], ['BLOB_UPLOAD_UNKNOWN', 'NAME_INVALID']);
      expectRefused(await raw('PATCH', `/v2/${REPO}/blobs/uploads/${id}`, { body: Buffer.from('x') }), [404, 400], ['BLOB_UPLOAD_UNKNOWN', 'NAME_INVALID']);
    }
  });

  it('an upload session cannot be used through another repository', async () => {
    await pushMemImage(b, 'bad/other', 'x', memImage([{ 'o.txt': 'o' }]));
    const post = await startUpload(b, REPO);
    const id = new URL(post.location).pathname.split('/').pop()!;
    expectRefused(await raw('GET', `/v2/bad/other/blobs/uploads/${id}`), [404], ['BLOB_UPLOAD_UNKNOWN']);
    catalogBefore = await catalogNow();
  });
});

describe('names and paths', () => {
  it('invalid repository names -> 400 NAME_INVALID (or 404 when no route matches)', async () => {
    const names = ['Upper/Case', 'a/../b', '..', '%2e%2e', 'a/%2e%2e/b', '/leading', 'a'.repeat(300), 'a//b', 'trailing-', 'sp%20ace'];
    for (const name of names) {
      for (const [method, path] of [
        ['GET', `/v2/${name}/tags/list`],
        ['GET', `/v2/${name}/manifests/latest`],
        ['PUT', `/v2/${name}/manifests/latest`],
        ['POST', `/v2/${name}/blobs/uploads/`],
        ['GET', `/v2/${name}/blobs/${image.digest}`],
      ] as const) {
        const body = method === 'PUT' ? image.manifest : undefined;
        const r = await raw(method, path, { headers: { 'content-type': MediaType.ociManifest }, body });
        assert.ok(r.status >= 400 && r.status < 500, `${method} ${path.slice(0, 80)} -> ${r.status} ${r.body.slice(0, 200)}`);
        if (r.status === 400) assert.equal(codeOf(r), 'NAME_INVALID', `${method} ${path.slice(0, 80)}: ${r.body.slice(0, 200)}`);
      }
    }
    assert.deepEqual(await catalogNow(), catalogBefore);
  });

  it('path traversal in references never reaches another repository or file', async () => {
    const refs = ['..%2f..%2f..%2fetc%2fpasswd', '..', '%2e%2e', '.', 'sha256:..%2f..%2fetc', `..%2fgood`];
    for (const ref of refs) {
      for (const method of ['GET', 'HEAD', 'DELETE'] as const) {
        const m = await raw(method, `/v2/${REPO}/manifests/${ref}`);
        assert.ok(m.status >= 400 && m.status < 500, `${method} manifests/${ref} -> ${m.status} ${m.body}`);
        const bl = await raw(method, `/v2/${REPO}/blobs/${ref}`);
        assert.ok(bl.status >= 400 && bl.status < 500, `${method} blobs/${ref} -> ${bl.status} ${bl.body}`);
      }
      const p = await raw('PUT', `/v2/${REPO}/manifests/${ref}`, { headers: { 'content-type': MediaType.ociManifest }, body: image.manifest });
      assert.ok(p.status >= 400 && p.status < 500, `PUT manifests/${ref} -> ${p.status} ${p.body}`);
    }
    // A dot segment that would resolve to an existing repository is refused, not followed.
    const sneaky = await raw('GET', `/v2/elsewhere/../${REPO}/manifests/good`);
    expectRefused(sneaky, [400, 404], ['NAME_INVALID']);
    assert.deepEqual(await tagsNow(), ['good']);
    expectRefused(await raw('GET', `/v2/${REPO}/manifests/good`), [200], []);
  });
});

describe('pagination', () => {
  it('huge n is capped; negative or non-numeric n -> 400', async () => {
    for (const n of ['1000000', '99999999999999999999999']) {
      const r = await request(b, 'GET', `/v2/${REPO}/tags/list?n=${n}`);
      assert.equal(r.status, 200, r.describe());
      assert.deepEqual(r.json<{ tags: string[] }>().tags, ['good']);
      const c = await request(b, 'GET', `/v2/_catalog?n=${n}`);
      assert.equal(c.status, 200, c.describe());
    }
    for (const n of ['-1', 'abc', '1.5', '-99999999999']) {
      expectRefused(await request(b, 'GET', `/v2/${REPO}/tags/list?n=${n}`), [400], ['PAGINATION_NUMBER_INVALID', 'UNSUPPORTED']);
      expectRefused(await request(b, 'GET', `/v2/_catalog?n=${n}`), [400], ['PAGINATION_NUMBER_INVALID', 'UNSUPPORTED']);
    }
  });

  it('odd last values are fine', async () => {
    for (const last of ['%00', 'zzzz', '..%2f..', encodeURIComponent('a'.repeat(5000))]) {
      const r = await raw('GET', `/v2/${REPO}/tags/list?n=10&last=${last}`);
      assert.ok(r.status === 200 || r.status === 400, `${r.status} ${r.body}`);
    }
  });
});

describe('methods and routes', () => {
  it('unsupported methods -> 405 with an error body; unknown /v2 routes -> 404', async () => {
    const r = await raw('POST', `/v2/${REPO}/manifests/good`);
    assert.equal(r.status, 405);
    assert.ok(codeOf(r));
    const put = await raw('PUT', `/v2/${REPO}/tags/list`);
    assert.equal(put.status, 405);
    const unknown = await raw('GET', `/v2/${REPO}/nonsense`);
    assert.equal(unknown.status, 404);
  });

  it('the registry still serves the image untouched after all this', async () => {
    const r = await request(b, 'GET', `/v2/${REPO}/manifests/good`, { headers: { accept: MediaType.ociManifest } });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, image.manifest);
    assert.deepEqual(await tagsNow(), ['good']);
    assert.deepEqual(errorCodes(await request(b, 'GET', `/v2/${REPO}/manifests/missing`)), ['MANIFEST_UNKNOWN']);
  });
});
