import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { isValidRepositoryName, isValidTag, assertRepositoryName, assertTag } from '../../src/domain/registry/names.js';
import { isValidDigest, looksLikeDigest, parseDigest, digestOf, sha256Digest } from '../../src/domain/registry/digest.js';
import { OCI_ERRORS, OciError, sendOciError, toOciError, type OciErrorCode } from '../../src/doors/oci/errors.js';
import { pageParams, MAX_PAGE_SIZE } from '../../src/doors/oci/manifests.js';
import { parseContentRange, parseRangeHeader } from '../../src/doors/oci/blobs.js';
import { matchRoute } from '../../src/doors/oci/routes.js';
import { BodyTooLargeError } from '../../src/doors/http/io.js';

describe('repository names', () => {
  it("accepts ECR's grammar on every door", () => {
    for (const n of ['ab', 'library/ubuntu', 'a-b/c_d/e.f', 'x/y/z/w', 'a1/2b', 'a'.repeat(256)]) {
      assert.ok(isValidRepositoryName(n), n);
    }
  });
  it('refuses everything else with NAME_INVALID', () => {
    for (const n of ['', 'a', 'a__b', 'a---b', 'Upper', 'a/', '/a', 'a//b', '..', 'a/../b', 'a/./b', '%2e%2e', '-a', 'a-', 'a_', 'a___b', 'a..b', 'a b', 'a:b', 'a'.repeat(257), 'a'.repeat(300)]) {
      assert.equal(isValidRepositoryName(n), false, n);
      assert.throws(() => assertRepositoryName(n), (e: unknown) => toOciError(e).code === 'NAME_INVALID' && toOciError(e).status === 400);
    }
  });
});

describe('tags', () => {
  it('accepts [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}', () => {
    for (const t of ['latest', 'v1.2.3', '_x', 'A-b_c.d', '0', 'a'.repeat(128)]) assert.ok(isValidTag(t), t);
  });
  it('refuses others with TAG_INVALID', () => {
    for (const t of ['', '.x', '-x', 'a'.repeat(129), 'a/b', 'a:b', 'a b', '..', '.INVALID_MANIFEST_NAME', 'é']) {
      assert.equal(isValidTag(t), false, t);
      assert.throws(() => assertTag(t), (e: unknown) => toOciError(e).code === 'TAG_INVALID' && toOciError(e).status === 400);
    }
  });
});

describe('digests', () => {
  const hex64 = 'a'.repeat(64);
  it('parses sha256 and sha512', () => {
    assert.deepEqual(parseDigest(`sha256:${hex64}`), { algorithm: 'sha256', hex: hex64, digest: `sha256:${hex64}` });
    assert.ok(isValidDigest(`sha512:${'0'.repeat(128)}`));
    assert.equal(sha256Digest('x'), digestOf('sha256', Buffer.from('x')));
    assert.match(digestOf('sha512', Buffer.from('x')), /^sha512:[a-f0-9]{128}$/);
  });
  it('refuses unsupported algorithms, wrong lengths, uppercase hex, junk', () => {
    for (const s of [`md5:${'a'.repeat(32)}`, `sha384:${'a'.repeat(96)}`, `sha256:${'a'.repeat(63)}`, `sha256:${'A'.repeat(64)}`, 'sha256:totallywrong', `sha512:${hex64}`, 'sha256', ':abc', `SHA256:${hex64}`, `sha256:${hex64}\n`]) {
      assert.equal(isValidDigest(s), false, s);
      assert.throws(() => parseDigest(s), (e: unknown) => toOciError(e).code === 'DIGEST_INVALID' && toOciError(e).status === 400);
    }
  });
  it('a reference with a colon is a digest, otherwise a tag', () => {
    assert.ok(looksLikeDigest('sha256:x'));
    assert.equal(looksLikeDigest('latest'), false);
  });
});

class FakeResponse {
  status = 0;
  headers: Record<string, string | number> = {};
  body = '';
  headersSent = false;
  destroyed = false;
  writeHead(status: number, headers: Record<string, string | number>) {
    this.status = status;
    this.headers = headers;
    this.headersSent = true;
    return this;
  }
  end(chunk?: string) {
    this.body = chunk ?? '';
  }
  destroy() {
    this.destroyed = true;
  }
}

function render(err: unknown, head = false): FakeResponse {
  const res = new FakeResponse();
  sendOciError(res as unknown as ServerResponse, err, head);
  return res;
}

describe('error mapping', () => {
  const expected: Record<OciErrorCode, number> = {
    BLOB_UNKNOWN: 404,
    BLOB_UPLOAD_INVALID: 400,
    BLOB_UPLOAD_UNKNOWN: 404,
    DIGEST_INVALID: 400,
    MANIFEST_BLOB_UNKNOWN: 400,
    MANIFEST_INVALID: 400,
    MANIFEST_UNKNOWN: 404,
    NAME_INVALID: 400,
    NAME_UNKNOWN: 404,
    SIZE_INVALID: 400,
    UNAUTHORIZED: 401,
    DENIED: 403,
    UNSUPPORTED: 415,
    TOOMANYREQUESTS: 429,
    TAG_INVALID: 400,
    RANGE_INVALID: 416,
    PAGINATION_NUMBER_INVALID: 400,
    UNKNOWN: 500,
  };
  it('covers every code', () => {
    assert.deepEqual(Object.keys(OCI_ERRORS).sort(), Object.keys(expected).sort());
  });
  for (const [code, status] of Object.entries(expected) as Array<[OciErrorCode, number]>) {
    it(`${code} -> ${status} with the OCI error body`, () => {
      const res = render(new OciError(code, undefined, { x: 1 }));
      assert.equal(res.status, status);
      assert.equal(res.headers['Content-Type'], 'application/json');
      assert.equal(res.headers['Docker-Distribution-API-Version'], 'registry/2.0');
      const body = JSON.parse(res.body) as { errors: Array<{ code: string; message: string; detail: unknown }> };
      assert.equal(body.errors.length, 1);
      assert.equal(body.errors[0]!.code, code);
      assert.equal(body.errors[0]!.message, OCI_ERRORS[code].message);
      assert.deepEqual(body.errors[0]!.detail, { x: 1 });
      assert.equal(Number(res.headers['Content-Length']), Buffer.byteLength(res.body));
    });
  }
  it('explicit status and message override the defaults; detail defaults to {}', () => {
    const res = render(new OciError('BLOB_UPLOAD_INVALID', 'bad chunk', undefined, 416));
    assert.equal(res.status, 416);
    assert.deepEqual(JSON.parse(res.body), { errors: [{ code: 'BLOB_UPLOAD_INVALID', message: 'bad chunk', detail: {} }] });
  });
  it('unexpected errors become UNKNOWN 500 without internals; body too large becomes 413', () => {
    const res = render(new Error('secret stack detail'));
    assert.equal(res.status, 500);
    assert.ok(!res.body.includes('secret'));
    assert.equal(JSON.parse(res.body).errors[0].code, 'UNKNOWN');
    assert.equal(render(new BodyTooLargeError(10)).status, 413);
  });
  it('HEAD gets no body; a started response is destroyed instead', () => {
    const head = render(new OciError('BLOB_UNKNOWN'), true);
    assert.equal(head.status, 404);
    assert.equal(head.body, '');
    const started = new FakeResponse();
    started.headersSent = true;
    sendOciError(started as unknown as ServerResponse, new OciError('BLOB_UNKNOWN'), false);
    assert.ok(started.destroyed);
    assert.equal(started.status, 0);
  });
});

describe('pagination parameters', () => {
  const p = (q: string) => pageParams(new URL(`http://x/v2/a/tags/list${q}`));
  it('reads n and last', () => {
    assert.deepEqual(p(''), { last: undefined });
    assert.deepEqual(p('?n='), { last: undefined });
    assert.deepEqual(p('?n=0'), { n: 0, last: undefined });
    assert.deepEqual(p('?n=5&last=b'), { n: 5, last: 'b' });
  });
  it('caps huge n', () => {
    assert.equal(p('?n=99999').n, MAX_PAGE_SIZE);
    assert.equal(p('?n=999999999999999999999999').n, MAX_PAGE_SIZE);
  });
  it('refuses negative, fractional and non-numeric n', () => {
    for (const q of ['?n=-1', '?n=1.5', '?n=abc', '?n=1e3', '?n= 1', '?n=0x10']) {
      assert.throws(() => p(q), (e: unknown) => toOciError(e).code === 'PAGINATION_NUMBER_INVALID' && toOciError(e).status === 400, q);
    }
  });
});

describe('Range (blob GET)', () => {
  it('parses ranges against the size', () => {
    assert.equal(parseRangeHeader(undefined, 10), undefined);
    assert.deepEqual(parseRangeHeader('bytes=0-4', 10), { start: 0, end: 4 });
    assert.deepEqual(parseRangeHeader('bytes=5-', 10), { start: 5, end: 9 });
    assert.deepEqual(parseRangeHeader('bytes=-3', 10), { start: 7, end: 9 });
    assert.deepEqual(parseRangeHeader('bytes=-30', 10), { start: 0, end: 9 });
    assert.deepEqual(parseRangeHeader('bytes=8-100', 10), { start: 8, end: 9 });
  });
  it('unsatisfiable or malformed ranges', () => {
    for (const h of ['bytes=10-', 'bytes=5-4', 'bytes=-0', 'bytes=-', 'items=0-1', 'bytes=0-1,3-4', 'bytes=a-b']) {
      assert.equal(parseRangeHeader(h, 10), 'unsatisfiable', h);
    }
  });
});

describe('Content-Range (upload PATCH)', () => {
  it('parses start-end and tolerates the bytes prefix and total', () => {
    assert.equal(parseContentRange(undefined), undefined);
    assert.deepEqual(parseContentRange('0-21'), { start: 0, end: 21 });
    assert.deepEqual(parseContentRange('bytes 22-41/42'), { start: 22, end: 41 });
    assert.deepEqual(parseContentRange('bytes=0-0'), { start: 0, end: 0 });
    assert.deepEqual(parseContentRange('5-9/*'), { start: 5, end: 9 });
  });
  it('refuses malformed or inverted ranges with 416 BLOB_UPLOAD_INVALID', () => {
    for (const h of ['', 'abc', '5-', '-5', '10-5', '0-1-2', 'bytes 0-1/x']) {
      assert.throws(() => parseContentRange(h), (e: unknown) => toOciError(e).code === 'BLOB_UPLOAD_INVALID' && toOciError(e).status === 416, h);
    }
  });
});

describe('routes', () => {
  it('maps /v2 paths with nested names', () => {
    assert.deepEqual(matchRoute('/v2/'), { route: 'base', name: '', ref: '' });
    assert.deepEqual(matchRoute('/v2/_catalog'), { route: 'catalog', name: '', ref: '' });
    assert.deepEqual(matchRoute('/v2/a/b/tags/list'), { route: 'tags', name: 'a/b', ref: '' });
    assert.deepEqual(matchRoute('/v2/a/b/manifests/latest'), { route: 'manifest', name: 'a/b', ref: 'latest' });
    assert.deepEqual(matchRoute('/v2/a/blobs/uploads/'), { route: 'uploadStart', name: 'a', ref: '' });
    assert.deepEqual(matchRoute('/v2/a/blobs/uploads/u1'), { route: 'upload', name: 'a', ref: 'u1' });
    assert.deepEqual(matchRoute('/v2/a/blobs/sha256:x'), { route: 'blob', name: 'a', ref: 'sha256:x' });
    assert.deepEqual(matchRoute('/v2/a/referrers/sha256:x'), { route: 'referrers', name: 'a', ref: 'sha256:x' });
    assert.equal(matchRoute('/v2/a/unknown'), undefined);
  });
});
