import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { AuthenticationError } from '../../src/iam/auth/authentication-error.js';
import { verifySigV4, type SignedRequest } from '../../src/iam/auth/sigv4.js';

const KEY = 'AKIAEXAMPLEKEY000001';
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const lookup = async (id: string) => (id === KEY ? SECRET : undefined);

async function signed(opts: { secret?: string; at?: Date; body?: string; service?: string; region?: string; path?: string; query?: Record<string, string | string[]>; headers?: Record<string, string> } = {}): Promise<SignedRequest> {
  const body = opts.body ?? '{"repositoryNames":["app"]}';
  const signer = new SignatureV4({
    service: opts.service ?? 'ecr',
    region: opts.region ?? 'eu-west-1',
    credentials: { accessKeyId: KEY, secretAccessKey: opts.secret ?? SECRET },
    sha256: Sha256,
  });
  const req = await signer.sign(
    {
      method: 'POST',
      protocol: 'http:',
      hostname: '127.0.0.1',
      port: 5000,
      path: opts.path ?? '/',
      query: opts.query ?? {},
      headers: {
        host: '127.0.0.1:5000',
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': 'AmazonEC2ContainerRegistry_V20150921.DescribeRepositories',
        ...opts.headers,
      },
      body,
    },
    { signingDate: opts.at ?? new Date() },
  );
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) headers[k.toLowerCase()] = v;
  const query = new URLSearchParams(Object.entries(opts.query ?? {}).flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map((one) => [k, one]))).toString();
  return { method: 'POST', path: opts.path ?? '/', query, headers, body: Buffer.from(body) };
}

async function rejection(req: SignedRequest, service = 'ecr'): Promise<AuthenticationError> {
  try {
    await verifySigV4(req, service, lookup);
  } catch (err) {
    assert.ok(err instanceof AuthenticationError, `expected AuthenticationError, got ${String(err)}`);
    return err;
  }
  assert.fail('request was accepted');
}

test('a request signed by @smithy/signature-v4 verifies, in any region', async () => {
  const cred = await verifySigV4(await signed(), 'ecr', lookup);
  assert.deepEqual(cred, { accessKeyId: KEY, region: 'eu-west-1', service: 'ecr' });
  await verifySigV4(await signed({ region: 'ap-southeast-2', path: '/a/b c', query: { x: '1 2', a: 'b' } }), 'ecr', lookup);
});

test('canonicalization matches the reference signer: odd paths, repeated and reserved query characters, folded header values', async () => {
  await verifySigV4(
    await signed({
      path: '/v1/./a/../b//c/',
      query: { z: ['2', '10', '1'], 'a b': "it's (x)*!", 'é': '~-_.', empty: '' },
      headers: { 'x-amz-security-token': 'tok/en+=', 'x-custom': '  spaced \t  out  value ' },
    }),
    'ecr',
    lookup,
  );
});

test('a wrong secret is a signature mismatch', async () => {
  const err = await rejection(await signed({ secret: 'not-the-secret' }));
  assert.equal(err.code, 'InvalidSignatureException');
  assert.match(err.message, /^The request signature we calculated does not match the signature you provided/);
  assert.equal(err.status, 400);
});

test('a tampered body, header or path is a signature mismatch', async () => {
  const body = await signed();
  body.body = Buffer.from('{"repositoryNames":["other"]}');
  assert.equal((await rejection(body)).code, 'InvalidSignatureException');
  const target = await signed();
  target.headers['x-amz-target'] = 'AmazonEC2ContainerRegistry_V20150921.DeleteRepository';
  assert.equal((await rejection(target)).code, 'InvalidSignatureException');
  const path = await signed();
  path.path = '/other';
  assert.equal((await rejection(path)).code, 'InvalidSignatureException');
});

test('a date more than 15 minutes off is refused as expired or not yet current', async () => {
  const old = await rejection(await signed({ at: new Date(Date.now() - 16 * 60_000) }));
  assert.equal(old.code, 'InvalidSignatureException');
  assert.match(old.message, /^Signature expired: \d{8}T\d{6}Z is now earlier than \d{8}T\d{6}Z \(\d{8}T\d{6}Z - 15 min\.\)$/);
  const future = await rejection(await signed({ at: new Date(Date.now() + 16 * 60_000) }));
  assert.match(future.message, /^Signature not yet current:/);
  await verifySigV4(await signed({ at: new Date(Date.now() - 10 * 60_000) }), 'ecr', lookup);
});

test('an unknown key is UnrecognizedClientException, a missing header MissingAuthenticationToken', async () => {
  try {
    await verifySigV4(await signed(), 'ecr', async () => undefined);
    assert.fail('accepted');
  } catch (e) {
    assert.ok(e instanceof AuthenticationError);
    assert.equal(e.code, 'UnrecognizedClientException');
    assert.equal(e.message, 'The security token included in the request is invalid.');
  }
  const unsigned = await signed();
  delete unsigned.headers.authorization;
  const missing = await rejection(unsigned);
  assert.equal(missing.code, 'MissingAuthenticationTokenException');
  assert.equal(missing.status, 403);
  assert.equal(missing.message, 'Missing Authentication Token');
});

test('the service in the credential scope must match', async () => {
  const err = await rejection(await signed({ service: 'iam' }), 'ecr');
  assert.equal(err.code, 'InvalidSignatureException');
  assert.match(err.message, /Credential should be scoped to correct service: 'ecr'/);
});

test('a malformed Authorization header is an IncompleteSignatureException, not a crash', async () => {
  const req = await signed();
  req.headers.authorization = 'AWS4-HMAC-SHA256 Credential=onlyonepart';
  assert.equal((await rejection(req)).code, 'IncompleteSignatureException');
  req.headers.authorization = 'Bearer abc';
  assert.equal((await rejection(req)).code, 'IncompleteSignatureException');
});
