// What an operator sees of berth: a push, a pull, a denied pull and a policy change each show up
// in the request log, in the /metrics counters (scraped with the bearer token berth created), and
// in the audit trail, read with the real `aws cloudtrail lookup-events` and `berth admin audit`.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ECRClient } from '@aws-sdk/client-ecr';
import { AWS, awsCliEnv } from '../helpers/aws-cli.js';
import { getLoginPassword, readAdminCredentials, REPO_ROOT, startBerth, type Berth } from '../helpers/berth.js';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { buildImage, type LayoutImage } from '../helpers/images.js';
import { run, skopeo, tempDir, type RunResult } from '../helpers/tools.js';

const REPO = 'obs/app';

interface LogLine {
  msg: string;
  requestId: string;
  door: string;
  action?: string;
  repository?: string;
  principal?: string;
  status: number;
  errorCode?: string;
  bytesIn: number;
  bytesOut: number;
  durationMs: number;
  clientIp: string;
  userAgent: string;
  method: string;
  path: string;
}

/** The request log is written in blocks at least every second: wait for a line to show up. */
async function waitForLine(b: Berth, match: (l: LogLine) => boolean, what: string): Promise<LogLine> {
  for (let i = 0; i < 50; i++) {
    const line = requestLines(b.output()).find(match);
    if (line) return line;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`no request line: ${what}`);
}

function requestLines(output: string): LogLine[] {
  return output
    .split('\n')
    .filter((l) => l.startsWith('{') && l.includes('"msg":"request"'))
    .map((l) => JSON.parse(l) as LogLine);
}

/** The value of one sample in Prometheus text, by metric name and labels; undefined if absent. */
export function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name + '{') && line.split(' ')[0] !== name) continue;
    const m = /^([^{ ]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[3]);
  }
  return undefined;
}

describe('observability: request log, metrics, audit trail', { timeout: 900_000 }, () => {
  let b: Berth;
  let work: { path: string; remove: () => Promise<void> };
  let image: LayoutImage;
  let accountId: string;
  let readerPassword: string;
  let readerKeys: { AccessKeyId: string; SecretAccessKey: string };
  let adminArn: string;
  const results: Record<string, RunResult> = {};

  function aws(args: string[], check = true): Promise<RunResult> {
    return run(AWS, ['--profile', 'berth', '--endpoint-url', b.url, '--output', 'json', ...args], {
      env: { AWS_SHARED_CREDENTIALS_FILE: join(b.dataDir, 'admin-credentials'), AWS_CONFIG_FILE: '/dev/null', AWS_MAX_ATTEMPTS: '1', AWS_PAGER: '' },
      check,
      timeoutMs: 120_000,
    });
  }

  before(async () => {
    b = await startBerth({ env: { BERTH_LOG_LEVEL: 'info' } });
    work = await tempDir('berth-observability-');
    image = await buildImage({ layout: join(work.path, 'layout'), tag: 'v1', files: [{ path: '/etc/motd', content: 'observability test\n' }] });
    const me = JSON.parse((await aws(['sts', 'get-caller-identity'])).stdout) as { Account: string; Arn: string };
    accountId = me.Account;
    adminArn = me.Arn;
    await aws(['iam', 'create-user', '--user-name', 'reader']);
    const loginOnly = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ecr:GetAuthorizationToken', Resource: '*' }] });
    await aws(['iam', 'put-user-policy', '--user-name', 'reader', '--policy-name', 'login', '--policy-document', loginOnly]);
    const keys = JSON.parse((await aws(['iam', 'create-access-key', '--user-name', 'reader'])).stdout) as { AccessKey: { AccessKeyId: string; SecretAccessKey: string } };
    readerKeys = keys.AccessKey;
    const ecr = new ECRClient({ endpoint: b.url, region: 'us-east-1', credentials: { accessKeyId: keys.AccessKey.AccessKeyId, secretAccessKey: keys.AccessKey.SecretAccessKey }, maxAttempts: 1 });
    readerPassword = await getLoginPassword(ecr);
    ecr.destroy();

    await aws(['ecr', 'create-repository', '--repository-name', REPO]);
    // The four things an operator must be able to see.
    results.push = await skopeo(['copy', '--dest-tls-verify=false', '--dest-creds', `AWS:${b.password}`, image.ref, `docker://${b.host}/${REPO}:v1`], { check: false });
    results.pull = await skopeo(['copy', '--src-tls-verify=false', '--src-creds', `AWS:${b.password}`, `docker://${b.host}/${REPO}:v1`, `oci:${join(work.path, 'pulled')}:v1`], { check: false });
    results.deniedPull = await skopeo(['inspect', '--raw', '--tls-verify=false', '--creds', `AWS:${readerPassword}`, `docker://${b.host}/${REPO}:v1`], { check: false });
    const policy = JSON.stringify({ Version: '2012-10-17', Statement: [{ Sid: 'ReadOnly', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${accountId}:root` }, Action: ['ecr:BatchGetImage'] }] });
    results.policy = await aws(['ecr', 'set-repository-policy', '--repository-name', REPO, '--policy-text', policy], false);
  });

  after(async () => {
    await b?.destroy();
    await work?.remove();
  });

  test('the four actions did what they should', () => {
    assert.equal(results.push!.code, 0, results.push!.stderr);
    assert.equal(results.pull!.code, 0, results.pull!.stderr);
    assert.notEqual(results.deniedPull!.code, 0, 'the reader has no policy allowing a pull');
    assert.equal(results.policy!.code, 0, results.policy!.stderr);
  });

  test('request log: one line each, with id, principal, action, repository, status, bytes, duration, client and agent', async () => {
    await waitForLine(b, (l) => l.action === 'SetRepositoryPolicy', 'the last of the four');
    const lines = requestLines(b.output());
    const readerArn = `arn:aws:iam::${accountId}:user/reader`;
    const push = lines.find((l) => l.door === 'oci' && l.action === 'push manifest' && l.status === 201);
    assert.ok(push, 'manifest push logged');
    assert.equal(push.repository, REPO);
    assert.equal(push.principal, adminArn);
    assert.ok(push.bytesIn > 200, `bytes in ${push.bytesIn}`);
    assert.match(push.userAgent, /skopeo|containers/i);
    assert.equal(push.clientIp, '127.0.0.1');
    assert.ok(push.durationMs >= 0);
    assert.match(push.requestId, /^[0-9a-f-]{36}$/);
    const blobPush = lines.find((l) => l.action === 'push blob' && l.status === 201);
    assert.ok(blobPush && blobPush.bytesIn > 100, 'blob push logged with its bytes');
    const pull = lines.find((l) => l.action === 'pull manifest' && l.status === 200 && l.principal === adminArn);
    assert.ok(pull && pull.bytesOut > 200, 'manifest pull logged with the bytes sent');
    assert.ok(lines.some((l) => l.action === 'pull blob' && l.status === 200 && l.repository === REPO));
    const denied = lines.find((l) => l.action === 'pull manifest' && l.status === 403);
    assert.ok(denied, 'denied pull logged');
    assert.equal(denied.principal, readerArn);
    assert.equal(denied.errorCode, 'DENIED');
    const policy = lines.find((l) => l.door === 'ecr' && l.action === 'SetRepositoryPolicy');
    assert.ok(policy, 'policy change logged');
    assert.equal(policy.status, 200);
    assert.equal(policy.repository, REPO);
    assert.equal(policy.principal, adminArn);
    assert.match(policy.userAgent, /aws-cli\/2/);
    const iam = lines.find((l) => l.door === 'iam' && l.action === 'CreateAccessKey');
    assert.ok(iam && iam.status === 200, 'the IAM door logs too');
    assert.ok(lines.some((l) => l.door === 'sts' && l.action === 'GetCallerIdentity'));
  });

  test('the request id in the response is the one in the log: X-Request-Id on /v2, x-amzn-RequestId on the API', async () => {
    const res = await b.fetch(`/v2/${REPO}/manifests/v1`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
    await res.arrayBuffer();
    const id = res.headers.get('x-request-id');
    assert.match(id ?? '', /^[0-9a-f-]{36}$/);
    await waitForLine(b, (l) => l.requestId === id && l.action === 'pull manifest', 'the /v2 request by its id');
    const api = await aws(['ecr', 'describe-repositories', '--debug'], true);
    const sent = /x-amzn-RequestId['"]?: ['"]?([0-9a-f-]{36})/i.exec(api.stderr)?.[1];
    assert.ok(sent, 'the API answer carries x-amzn-RequestId');
    await waitForLine(b, (l) => l.requestId === sent && l.action === 'DescribeRepositories', 'the API request by its id');
  });

  test('/metrics: refused without the token (created with mode 0600), counters and storage with it', async () => {
    const tokenFile = join(b.dataDir, 'metrics-token');
    assert.equal((await stat(tokenFile)).mode & 0o777, 0o600);
    const token = (await readFile(tokenFile, 'utf8')).trim();
    assert.ok(token.length >= 32);
    const none = await fetch(`${b.url}/metrics`);
    assert.equal(none.status, 401);
    assert.match(none.headers.get('www-authenticate') ?? '', /^Bearer/);
    const wrong = await fetch(`${b.url}/metrics`, { headers: { authorization: `Bearer ${token.slice(1)}x` } });
    assert.equal(wrong.status, 401);
    const ok = await fetch(`${b.url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(ok.status, 200);
    assert.match(ok.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const text = await ok.text();
    const count = (labels: Record<string, string>) => sample(text, 'berth_http_requests_total', labels) ?? 0;
    assert.ok(count({ door: 'oci', action: 'push manifest', status: '201' }) >= 1, 'push counted');
    assert.ok(count({ door: 'oci', action: 'pull manifest', status: '200' }) >= 1, 'pull counted');
    assert.ok(count({ door: 'oci', action: 'pull manifest', status: '403' }) >= 1, 'denied pull counted');
    assert.equal(count({ door: 'ecr', action: 'SetRepositoryPolicy', status: '200' }), 1, 'policy change counted');
    assert.ok((sample(text, 'berth_http_request_duration_seconds_count', { door: 'oci', action: 'pull manifest' }) ?? 0) >= 2);
    assert.ok((sample(text, 'berth_http_received_bytes_total', { door: 'oci', action: 'push blob' }) ?? 0) > 100);
    assert.ok((sample(text, 'berth_http_sent_bytes_total', { door: 'oci', action: 'pull blob' }) ?? 0) > 100);
    const stored = sample(text, 'berth_repository_storage_bytes', { registry_id: accountId, repository: REPO }) ?? 0;
    const manifest = JSON.parse(image.manifest.toString('utf8')) as { config: { size: number }; layers: Array<{ size: number }> };
    const layers = manifest.layers.reduce((n, l) => n + l.size, 0) + manifest.config.size;
    assert.equal(stored, layers, 'storage per repository: its blobs');
    assert.ok((sample(text, 'berth_storage_bytes', {}) ?? 0) >= layers);
    assert.equal(sample(text, 'berth_uploads_in_progress', {}), 0);
    assert.ok(sample(text, 'process_cpu_seconds_total', {}) !== undefined, 'process figures');
    assert.ok(text.includes('berth_jobs'), 'job queue figures');
  });

  interface TrailEvent {
    EventId: string;
    EventName: string;
    EventSource: string;
    EventTime: string;
    ReadOnly: string;
    Username?: string;
    AccessKeyId?: string;
    Resources: Array<{ ResourceType: string; ResourceName: string }>;
    CloudTrailEvent: string;
  }

  async function lookup(args: string[]): Promise<TrailEvent[]> {
    return (JSON.parse((await aws(['cloudtrail', 'lookup-events', ...args])).stdout) as { Events: TrailEvent[] }).Events;
  }

  /** LookupEvents signed by hand, for the error cases (the CLI takes seconds to start). */
  async function lookupRaw(input: Record<string, unknown>): Promise<{ status: number; body: Record<string, any> }> {
    const creds = await readAdminCredentials(b.dataDir);
    const url = new URL(b.url);
    const body = JSON.stringify(input);
    const headers = { host: url.host, 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents' };
    const signer = new SignatureV4({ service: 'cloudtrail', region: 'us-east-1', credentials: { accessKeyId: creds!.accessKeyId, secretAccessKey: creds!.secretAccessKey }, sha256: Sha256 });
    const signed = await signer.sign({ method: 'POST', protocol: 'http:', hostname: url.hostname, port: Number(url.port), path: '/', headers, body });
    const { host: _host, ...sendable } = signed.headers;
    const res = await fetch(`${b.url}/`, { method: 'POST', headers: sendable, body });
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  }

  const record = (e: TrailEvent) => JSON.parse(e.CloudTrailEvent) as Record<string, any>;

  test('aws cloudtrail lookup-events: the push, the pull, the denied pull and the policy change', async () => {
    const readerArn = `arn:aws:iam::${accountId}:user/reader`;
    await waitForLine(b, (l) => l.action === 'SetRepositoryPolicy', 'the policy change');
    await new Promise((r) => setTimeout(r, 500)); // the trail writes within 200 ms
    const all = await lookup(['--page-size', '5']); // the CLI follows NextToken through pages of 5
    const named = (name: string) => all.filter((e) => e.EventName === name);
    assert.ok(all.length > 15, `several pages: ${all.length}`);
    const times = all.map((e) => record(e).eventTime as string);
    assert.deepEqual([...times].sort().reverse(), times, 'newest first');

    const [put] = named('PutImage');
    assert.ok(put, 'PutImage recorded');
    const p = record(put);
    assert.equal(put.EventSource, 'ecr.amazonaws.com');
    assert.equal(put.ReadOnly, 'false');
    assert.equal(put.Username, 'admin');
    assert.deepEqual(put.Resources, [{ ResourceType: 'AWS::ECR::Repository', ResourceName: REPO }]);
    assert.equal(p.eventSource, 'ecr.amazonaws.com');
    assert.equal(p.awsRegion, 'us-east-1');
    assert.equal(p.userIdentity.type, 'IAMUser');
    assert.equal(p.userIdentity.arn, adminArn);
    assert.match(p.userIdentity.principalId, /^AIDA/);
    assert.equal(p.requestParameters.repositoryName, REPO);
    assert.equal(p.requestParameters.imageTag, 'v1');
    assert.equal(p.sourceIPAddress, '127.0.0.1');
    assert.match(p.userAgent, /skopeo|containers/i);
    assert.equal(p.recipientAccountId, accountId);
    assert.equal(p.eventID, put.EventId);
    assert.match(p.requestID, /^[0-9a-f-]{36}$/);
    assert.deepEqual(p.resources, [{ accountId, type: 'AWS::ECR::Repository', ARN: `arn:aws:ecr:us-east-1:${accountId}:repository/${REPO}` }]);
    for (const name of ['InitiateLayerUpload', 'CompleteLayerUpload', 'GetDownloadUrlForLayer']) assert.ok(named(name).length >= 1, `${name} recorded`);

    const gets = named('BatchGetImage').filter((e) => record(e).requestParameters?.repositoryName === REPO);
    const pulled = gets.find((e) => !record(e).errorCode && record(e).userIdentity.arn === adminArn);
    assert.ok(pulled, 'the pull recorded');
    assert.equal(pulled.ReadOnly, 'true');
    assert.deepEqual(record(pulled).requestParameters.imageIds, [{ imageTag: 'v1' }]);
    const denied = gets.find((e) => record(e).userIdentity.arn === readerArn);
    assert.ok(denied, 'the denied pull recorded');
    assert.equal(record(denied).errorCode, 'AccessDeniedException');
    assert.match(record(denied).errorMessage, /not authorized to perform: ecr:BatchGetImage/);
    assert.equal(denied.Username, 'reader');

    const [policy] = named('SetRepositoryPolicy');
    assert.ok(policy, 'the policy change recorded');
    const pr = record(policy);
    assert.equal(pr.requestParameters.repositoryName, REPO);
    assert.match(pr.requestParameters.policyText, /ReadOnly/);
    assert.equal(pr.responseElements.repositoryName, REPO);
    assert.match(pr.userAgent, /aws-cli\/2/);
    assert.ok(all.some((e) => e.EventName === 'CreateUser' && e.EventSource === 'iam.amazonaws.com' && e.Resources[0]?.ResourceName === 'reader'));

    // One attribute at a time, as CloudTrail allows.
    const puts = await lookup(['--lookup-attributes', 'AttributeKey=EventName,AttributeValue=PutImage']);
    assert.deepEqual(puts.map((e) => e.EventId), named('PutImage').map((e) => e.EventId));
    const byReader = await lookup(['--lookup-attributes', 'AttributeKey=Username,AttributeValue=reader']);
    assert.deepEqual(byReader.map((e) => e.EventId), all.filter((e) => e.Username === 'reader').map((e) => e.EventId));
    assert.ok(byReader.some((e) => e.EventName === 'GetAuthorizationToken'));

    // Paging by hand: --max-items with --starting-token.
    const first = JSON.parse((await aws(['cloudtrail', 'lookup-events', '--max-items', '2'])).stdout) as { Events: TrailEvent[]; NextToken?: string };
    assert.equal(first.Events.length, 2);
    assert.ok(first.NextToken);
    const rest = JSON.parse((await aws(['cloudtrail', 'lookup-events', '--max-items', '2', '--starting-token', first.NextToken!])).stdout) as { Events: TrailEvent[] };
    const newer = first.Events.length + rest.Events.length;
    assert.equal(newer, 4);
    assert.ok(rest.Events.every((e) => record(e).eventTime <= record(first.Events[1]!).eventTime));
  });

  test('LookupEvents takes a time range and MaxResults, and refuses bad input the CloudTrail way', async () => {
    const now = Date.now() / 1000;
    const page = await lookupRaw({ MaxResults: 3, StartTime: now - 3600, EndTime: now + 60 });
    assert.equal(page.status, 200);
    assert.equal(page.body.Events.length, 3);
    assert.ok(page.body.NextToken);
    const next = await lookupRaw({ MaxResults: 3, StartTime: now - 3600, EndTime: now + 60, NextToken: page.body.NextToken });
    assert.equal(next.body.Events.length, 3);
    assert.ok(next.body.Events.every((e: { EventTime: number }) => e.EventTime <= page.body.Events[2].EventTime));
    assert.deepEqual((await lookupRaw({ StartTime: now + 3600 })).body, { Events: [] });
    assert.deepEqual((await lookupRaw({ EventCategory: 'insight' })).body, { Events: [] }, 'berth has no Insights events');
    const error = async (input: Record<string, unknown>) => {
      const r = await lookupRaw(input);
      assert.equal(r.status, 400);
      return r.body.__type as string;
    };
    assert.equal(await error({ StartTime: now, EndTime: now - 60 }), 'InvalidTimeRangeException');
    assert.equal(await error({ LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: 'PutImage' }, { AttributeKey: 'Username', AttributeValue: 'admin' }] }), 'InvalidLookupAttributesException');
    assert.equal(await error({ LookupAttributes: [{ AttributeKey: 'Color', AttributeValue: 'blue' }] }), 'InvalidLookupAttributesException');
    assert.equal(await error({ MaxResults: 51 }), 'InvalidMaxResultsException');
    assert.equal(await error({ NextToken: 'garbage!' }), 'InvalidNextTokenException');
    assert.equal(await error({ EventCategory: 'data' }), 'InvalidEventCategoryException');
  });

  test('trails: describe-trails and list-trails show none, get-trail-status knows none, creating one is refused as unsupported', async () => {
    assert.deepEqual(JSON.parse((await aws(['cloudtrail', 'describe-trails'])).stdout), { trailList: [] });
    assert.deepEqual(JSON.parse((await aws(['cloudtrail', 'list-trails'])).stdout), { Trails: [] });
    const status = await aws(['cloudtrail', 'get-trail-status', '--name', 'management-events'], false);
    assert.notEqual(status.code, 0);
    assert.match(status.stderr, /TrailNotFoundException/);
    const create = await aws(['cloudtrail', 'create-trail', '--name', 'mine', '--s3-bucket-name', 'logs'], false);
    assert.notEqual(create.code, 0);
    assert.match(create.stderr, /UnsupportedOperationException/);
  });

  test('lookup-events needs cloudtrail:LookupEvents, and the refusal is itself recorded', async () => {
    const env = await awsCliEnv({ accessKeyId: readerKeys.AccessKeyId, secretAccessKey: readerKeys.SecretAccessKey });
    const res = await run(AWS, ['--endpoint-url', b.url, 'cloudtrail', 'lookup-events'], { env, check: false, timeoutMs: 120_000 });
    assert.notEqual(res.code, 0);
    assert.match(res.stderr, /AccessDeniedException.*cloudtrail:LookupEvents/);
    await new Promise((r) => setTimeout(r, 500));
    const refused = (await lookupRaw({ LookupAttributes: [{ AttributeKey: 'Username', AttributeValue: 'reader' }] })).body.Events.filter((e: TrailEvent) => e.EventName === 'LookupEvents');
    assert.equal(refused.length, 1);
    assert.equal(record(refused[0]).errorCode, 'AccessDeniedException');
  });

  test('berth admin audit exports JSON lines with filters, and no secret is anywhere in the trail', async () => {
    const admin = (args: string[]) => run(process.execPath, [join(REPO_ROOT, 'bin', 'berth.js'), 'admin', 'audit', ...args, '--data-dir', b.dataDir], { timeoutMs: 120_000 });
    const lines = (text: string) => text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, any>);
    const all = lines((await admin([])).stdout);
    assert.ok(all.length >= 15);
    assert.ok(all.every((r) => r.eventVersion && r.eventID && r.eventSource && r.eventName && r.eventTime && r.userIdentity && r.requestID && r.eventType === 'AwsApiCall' && typeof r.readOnly === 'boolean'));
    const puts = lines((await admin(['--event-name', 'PutImage'])).stdout);
    assert.ok(puts.length >= 1 && puts.every((r) => r.eventName === 'PutImage'));
    const readers = lines((await admin(['--user', 'reader', '--oldest-first'])).stdout);
    assert.ok(readers.length >= 2 && readers.every((r) => r.userIdentity.userName === 'reader'));
    assert.deepEqual(readers.map((r) => r.eventTime), [...readers.map((r) => r.eventTime)].sort());
    assert.equal((await admin(['--since', '2099-01-01T00:00:00Z'])).stdout, '');
    assert.equal(lines((await admin(['--limit', '3'])).stdout).length, 3);
    const everything = JSON.stringify(all);
    for (const [what, secret] of [['registry password', b.password!], ['reader password', readerPassword], ['secret key', readerKeys.SecretAccessKey]] as const) {
      assert.ok(!everything.includes(secret), `the ${what} is in the trail`);
    }
    const token = all.find((r) => r.eventName === 'GetAuthorizationToken');
    assert.ok(token && token.responseElements === null);
  });

  test('KMS, EventBridge and ECR Public calls are in the trail and the request log too, without plaintext or connection secrets', async () => {
    const plaintext = 'the-plaintext-nobody-may-read';
    const apiKey = 'the-api-key-nobody-may-read';
    const key = JSON.parse((await aws(['--region', 'us-east-1', 'kms', 'create-key', '--description', 'audited'])).stdout).KeyMetadata.KeyId as string;
    await aws(['--region', 'us-east-1', 'kms', 'encrypt', '--key-id', key, '--plaintext', Buffer.from(plaintext).toString('base64')]);
    await aws(['--region', 'us-east-1', 'events', 'create-connection', '--name', 'audited', '--authorization-type', 'API_KEY', '--auth-parameters', `ApiKeyAuthParameters={ApiKeyName=x-api-key,ApiKeyValue=${apiKey}}`]);
    await aws(['--region', 'us-east-1', 'ecr-public', 'create-repository', '--repository-name', 'audited/public']);
    const admin = () => run(process.execPath, [join(REPO_ROOT, 'bin', 'berth.js'), 'admin', 'audit', '--data-dir', b.dataDir], { timeoutMs: 120_000 });
    const wanted = [
      ['kms.amazonaws.com', 'CreateKey'],
      ['kms.amazonaws.com', 'Encrypt'],
      ['events.amazonaws.com', 'CreateConnection'],
      ['ecr-public.amazonaws.com', 'CreateRepository'],
    ];
    let all: Array<Record<string, any>> = [];
    for (let i = 0; i < 50; i++) {
      all = (await admin()).stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, any>);
      if (wanted.every(([source, name]) => all.some((r) => r.eventSource === source && r.eventName === name))) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    for (const [source, name] of wanted) {
      const found = all.find((r) => r.eventSource === source && r.eventName === name);
      assert.ok(found, `${source} ${name} is in the trail`);
      assert.equal(found.userIdentity.arn, adminArn);
    }
    const encrypt = all.find((r) => r.eventName === 'Encrypt')!;
    assert.equal(encrypt.readOnly, true);
    assert.equal(encrypt.requestParameters.keyId ?? encrypt.requestParameters.KeyId, key);
    const everything = JSON.stringify(all);
    assert.ok(!everything.includes(Buffer.from(plaintext).toString('base64')) && !everything.includes(plaintext), 'no plaintext in the trail');
    assert.ok(!everything.includes(apiKey), 'no connection secret in the trail');
    await waitForLine(b, (l) => l.door === 'kms' && l.action === 'Encrypt' && l.status === 200, 'the KMS call in the request log');
    await waitForLine(b, (l) => l.door === 'ecr-public' && l.action === 'CreateRepository' && l.repository === 'audited/public', 'the ECR Public call in the request log');
  });

  test('a clean shutdown writes every call the trail was given: none is lost', async () => {
    const { DescribeRepositoriesCommand } = await import('@aws-sdk/client-ecr');
    const count = async () => (await lookupRaw({ LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: 'DescribeRepositories' }], MaxResults: 50 })).body.Events.length as number;
    await new Promise((r) => setTimeout(r, 500));
    const before = await count();
    const calls = 25;
    for (let i = 0; i < calls; i++) await b.ecr!.send(new DescribeRepositoriesCommand({}));
    await b.restart(); // SIGTERM at once: the last calls are still waiting to be written
    assert.equal(await count(), before + calls);
  });
});
