// What an operator sees of berth: a push, a pull, a denied pull and a policy change each show up
// in the request log and in the /metrics counters (scraped with the bearer token berth created).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ECRClient } from '@aws-sdk/client-ecr';
import { getLoginPassword, startBerth, type Berth } from '../helpers/berth.js';
import { buildImage, type LayoutImage } from '../helpers/images.js';
import { run, skopeo, tempDir, type RunResult } from '../helpers/tools.js';

const AWS = '/usr/bin/aws';
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

describe('observability: request log, metrics', { timeout: 180_000 }, () => {
  let b: Berth;
  let work: { path: string; remove: () => Promise<void> };
  let image: LayoutImage;
  let accountId: string;
  let readerPassword: string;
  let adminArn: string;
  const results: Record<string, RunResult> = {};

  function aws(args: string[], check = true): Promise<RunResult> {
    return run(AWS, ['--profile', 'berth', '--endpoint-url', b.url, '--output', 'json', ...args], {
      env: { AWS_SHARED_CREDENTIALS_FILE: join(b.dataDir, 'admin-credentials'), AWS_CONFIG_FILE: '/dev/null', AWS_MAX_ATTEMPTS: '1', AWS_PAGER: '' },
      check,
      timeoutMs: 60_000,
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
});
