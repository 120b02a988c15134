// SigV4 on the wire: signed ECR and IAM requests over raw HTTP, and AWS's error shapes when they fail.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { readAdminCredentials, startBerth, type AdminCredentials, type Berth } from '../helpers/berth.js';

const TARGET = 'AmazonEC2ContainerRegistry_V20150921.DescribeRepositories';

describe('SigV4 verification on the server', { timeout: 60_000 }, () => {
  let b: Berth;
  let creds: AdminCredentials;

  before(async () => {
    b = await startBerth();
    creds = (await readAdminCredentials(b.dataDir))!;
  });
  after(async () => b?.destroy());

  async function send(opts: { body?: string; sentBody?: string; secret?: string; keyId?: string; at?: Date; service?: string; region?: string; unsigned?: boolean; form?: boolean } = {}) {
    const url = new URL(b.url);
    const body = opts.body ?? '{}';
    const headers: Record<string, string> = opts.form
      ? { host: url.host, 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' }
      : { host: url.host, 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': TARGET };
    let signedHeaders = headers;
    if (!opts.unsigned) {
      const signer = new SignatureV4({
        service: opts.service ?? 'ecr',
        region: opts.region ?? creds.region,
        credentials: { accessKeyId: opts.keyId ?? creds.accessKeyId, secretAccessKey: opts.secret ?? creds.secretAccessKey },
        sha256: Sha256,
      });
      const signed = await signer.sign({ method: 'POST', protocol: 'http:', hostname: url.hostname, port: Number(url.port), path: '/', headers, body }, { signingDate: opts.at ?? new Date() });
      signedHeaders = signed.headers;
    }
    const { host: _host, ...sendable } = signedHeaders;
    const res = await fetch(`${b.url}/`, { method: 'POST', headers: sendable, body: opts.sentBody ?? body });
    const text = await res.text();
    return { status: res.status, text, json: () => JSON.parse(text) as { __type: string; message: string } };
  }

  test("a correctly signed request succeeds in the deployment's region; one signed for another region is refused as AWS refuses it", async () => {
    const ok = await send();
    assert.equal(ok.status, 200, ok.text);
    assert.ok(Array.isArray((JSON.parse(ok.text) as { repositories: unknown[] }).repositories));
    const elsewhere = await send({ region: 'eu-central-1' });
    assert.equal(elsewhere.status, 400, elsewhere.text);
    assert.deepEqual(elsewhere.json(), { __type: 'InvalidSignatureException', message: "Credential should be scoped to a valid region, not 'eu-central-1'. " });
  });

  test('missing, unknown, wrong, tampered and expired signatures get AWS errors', async () => {
    // ECR answers an unsigned request with a 400 (recorded: MissingAuthenticationTokenException, 400).
    const missing = await send({ unsigned: true });
    assert.equal(missing.status, 400);
    assert.deepEqual(missing.json(), { __type: 'MissingAuthenticationTokenException', message: 'Missing Authentication Token' });

    const unknown = await send({ keyId: 'AKIAUNKNOWNKEY000000' });
    assert.equal(unknown.status, 400);
    assert.deepEqual(unknown.json(), { __type: 'UnrecognizedClientException', message: 'The security token included in the request is invalid.' });

    const wrong = await send({ secret: 'wrong-secret' });
    assert.equal(wrong.status, 400);
    assert.equal(wrong.json().__type, 'InvalidSignatureException');
    assert.match(wrong.json().message, /^The request signature we calculated does not match the signature you provided\./);

    const tampered = await send({ body: '{"repositoryNames":["a"]}', sentBody: '{"repositoryNames":["b"]}' });
    assert.equal(tampered.json().__type, 'InvalidSignatureException');

    const expired = await send({ at: new Date(Date.now() - 20 * 60_000) });
    assert.equal(expired.status, 400);
    assert.equal(expired.json().__type, 'InvalidSignatureException');
    assert.match(expired.json().message, /^Signature expired: \d{8}T\d{6}Z is now earlier than/);

    const wrongService = await send({ service: 'iam' });
    assert.equal(wrongService.status, 400);
    assert.equal(wrongService.json().__type, 'InvalidSignatureException');

    // Credential failures are decided before anything reads the input: a bad body still gets them.
    const unsignedBad = await send({ unsigned: true, body: '{"repositoryNames": 5}' });
    assert.equal(unsignedBad.status, 400);
    assert.equal(unsignedBad.json().__type, 'MissingAuthenticationTokenException');
  });

  test('the IAM query API verifies signatures too and answers in XML', async () => {
    const ok = await send({ form: true, service: 'iam', body: 'Action=ListUsers&Version=2010-05-08' });
    assert.equal(ok.status, 200, ok.text);
    assert.match(ok.text, /^<ListUsersResponse xmlns="https:\/\/iam\.amazonaws\.com\/doc\/2010-05-08\/"><ListUsersResult><Users><member>.*<UserName>admin<\/UserName>/);
    const bad = await send({ form: true, service: 'iam', body: 'Action=ListUsers&Version=2010-05-08', secret: 'nope' });
    assert.equal(bad.status, 403);
    assert.match(bad.text, /<ErrorResponse xmlns="https:\/\/iam\.amazonaws\.com\/doc\/2010-05-08\/"><Error><Type>Sender<\/Type><Code>SignatureDoesNotMatch<\/Code>/);
    const sts = await send({ form: true, service: 'sts', body: 'Action=GetCallerIdentity&Version=2011-06-15' });
    assert.match(sts.text, /<GetCallerIdentityResponse xmlns="https:\/\/sts\.amazonaws\.com\/doc\/2011-06-15\/"><GetCallerIdentityResult><UserId>AIDA\w+<\/UserId><Account>\d{12}<\/Account><Arn>arn:aws:iam::\d{12}:user\/admin<\/Arn>/);
    const unknown = await send({ form: true, service: 'iam', body: 'Action=NoSuchThing&Version=2010-05-08' });
    assert.equal(unknown.status, 400);
    assert.match(unknown.text, /<Code>InvalidAction<\/Code>/);
  });
});
