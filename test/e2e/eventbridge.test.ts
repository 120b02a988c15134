// EventBridge the way ECR users wire it: the real `aws events` CLI creates a connection, an API
// destination, a rule with an event pattern and a target; pushes and deletes then arrive at a
// local HTTP endpoint in EventBridge's envelope, authenticated and signed; an endpoint that is down
// gets every event once it is back, each id once.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { AWS, awsCliEnv } from '../helpers/aws-cli.js';
import { REPO_ROOT, startBerth, type Berth } from '../helpers/berth.js';
import { deleteManifest, memImage, pushMemImage } from '../helpers/oci.js';
import { run, tempDir } from '../helpers/tools.js';

const API_KEY = 'x-api-key';
const API_SECRET = 'endpoint-secret-value';

interface Received {
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  event: { id: string; 'detail-type': string; source: string; account: string; region: string; detail: Record<string, unknown> };
}

describe('EventBridge via the aws CLI v2', () => {
  let b: Berth;
  let work: { path: string; remove: () => Promise<void> };
  let env: Record<string, string>;
  let endpoint: Server;
  let endpointUrl: string;
  let up = true;
  const received: Received[] = [];
  let refused = 0;

  const aws = async (args: string[], check = true) => {
    const res = await run(AWS, ['--endpoint-url', b.url, '--output', 'json', 'events', ...args], { env, check: false, timeoutMs: 60_000 });
    if (check && res.code !== 0) assert.fail(`aws events ${args.join(' ')} exited ${res.code}: ${res.stderr}\n${b.output().slice(-2000)}`);
    return res;
  };
  const awsJson = async <T = Record<string, any>>(args: string[]): Promise<T> => JSON.parse((await aws(args)).stdout || '{}') as T;
  const iam = async (args: string[]) => {
    const res = await run(AWS, ['--endpoint-url', b.url, '--output', 'json', 'iam', ...args], { env, check: false, timeoutMs: 60_000 });
    if (res.code !== 0) assert.fail(`aws iam ${args.join(' ')} exited ${res.code}: ${res.stderr}`);
  };
  /** A role EventBridge may assume, allowed events:InvokeApiDestination on `resource`. */
  const invokeRole = async (name: string, resource: string): Promise<string> => {
    const trust = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'events.amazonaws.com' }, Action: 'sts:AssumeRole' }] };
    await iam(['create-role', '--role-name', name, '--assume-role-policy-document', JSON.stringify(trust)]);
    const policy = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'events:InvokeApiDestination', Resource: resource }] };
    await iam(['put-role-policy', '--role-name', name, '--policy-name', 'invoke', '--policy-document', JSON.stringify(policy)]);
    const account = JSON.parse((await run(AWS, ['--endpoint-url', b.url, '--output', 'json', 'sts', 'get-caller-identity'], { env })).stdout).Account as string;
    return `arn:aws:iam::${account}:role/${name}`;
  };
  const awsError = async (args: string[]): Promise<string> => {
    const res = await aws(args, false);
    assert.notEqual(res.code, 0, `aws events ${args.join(' ')} should have failed: ${res.stdout}`);
    return /An error occurred \((\w+)\)/.exec(res.stderr)?.[1] ?? res.stderr;
  };
  const waitFor = async (what: string, done: () => boolean, ms = 60_000) => {
    const deadline = Date.now() + ms;
    while (!done()) {
      assert.ok(Date.now() < deadline, `timed out waiting for ${what}; received ${JSON.stringify(received.map((r) => r.event.detail))}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };

  before(async () => {
    endpoint = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (!up) {
          refused++;
          res.writeHead(503).end();
          return;
        }
        const body = Buffer.concat(chunks).toString('utf8');
        received.push({ path: req.url ?? '', headers: req.headers, body, event: JSON.parse(body) as Received['event'] });
        res.writeHead(200).end('{}');
      });
    });
    await new Promise<void>((r) => endpoint.listen(0, '127.0.0.1', r));
    endpointUrl = `http://127.0.0.1:${(endpoint.address() as { port: number }).port}/hooks/ecr`;
    b = await startBerth({ env: { BERTH_CREATE_ON_PUSH: 'true' } });
    work = await tempDir('eventbridge');
    env = await awsCliEnv(b);
  });

  after(async () => {
    await b?.destroy();
    await work?.remove();
    await new Promise((r) => endpoint?.close(r));
  });

  it('delivers pushes and deletes matching a rule to an API destination, signed, each event once', { timeout: 180_000 }, async () => {
    const connection = await awsJson([
      'create-connection', '--name', 'hooks', '--authorization-type', 'API_KEY',
      '--auth-parameters', JSON.stringify({ ApiKeyAuthParameters: { ApiKeyName: API_KEY, ApiKeyValue: API_SECRET } }),
    ]);
    assert.match(connection.ConnectionArn, /^arn:aws:events:[a-z0-9-]+:\d{12}:connection\/hooks\/[-a-f0-9]+$/);
    assert.equal(await awsError(['create-connection', '--name', 'hooks', '--authorization-type', 'API_KEY',
      '--auth-parameters', JSON.stringify({ ApiKeyAuthParameters: { ApiKeyName: 'k', ApiKeyValue: 'v' } })]), 'ResourceAlreadyExistsException');
    const described = await awsJson(['describe-connection', '--name', 'hooks']);
    assert.deepEqual(described.AuthParameters, { ApiKeyAuthParameters: { ApiKeyName: API_KEY } }, 'the secret is never shown');

    const destination = await awsJson([
      'create-api-destination', '--name', 'ecr-hook', '--connection-arn', connection.ConnectionArn,
      '--invocation-endpoint', endpointUrl, '--http-method', 'POST',
    ]);
    const pattern = { source: ['aws.ecr'], 'detail-type': ['ECR Image Action'], detail: { 'repository-name': [{ prefix: 'watched/' }] } };
    const rule = await awsJson(['put-rule', '--name', 'image-actions', '--event-pattern', JSON.stringify(pattern)]);
    assert.match(rule.RuleArn, /:rule\/image-actions$/);
    assert.equal(await awsError(['put-rule', '--name', 'bad', '--event-pattern', '{"source":"aws.ecr"}']), 'InvalidEventPatternException');
    assert.equal(
      await awsError(['put-targets', '--rule', 'image-actions', '--targets', JSON.stringify([{ Id: 'hook', Arn: destination.ApiDestinationArn }])]),
      'ValidationException',
      'an API destination target needs a role, as on AWS',
    );
    const roleArn = await invokeRole('invoke-hooks', destination.ApiDestinationArn);
    const put = await awsJson(['put-targets', '--rule', 'image-actions', '--targets', JSON.stringify([
      { Id: 'hook', Arn: destination.ApiDestinationArn, RoleArn: roleArn, RetryPolicy: { MaximumRetryAttempts: 20, MaximumEventAgeInSeconds: 3600 } },
      { Id: 'lambda', Arn: 'arn:aws:lambda:us-east-1:123456789012:function:f' },
    ])]);
    assert.equal(put.FailedEntryCount, 1, 'a target berth cannot deliver to is refused, not stored');
    assert.equal(put.FailedEntries[0].TargetId, 'lambda');
    const targets = await awsJson(['list-targets-by-rule', '--rule', 'image-actions']);
    assert.deepEqual(targets.Targets.map((t: { Id: string }) => t.Id), ['hook']);
    const rules = await awsJson(['list-rules', '--name-prefix', 'image']);
    assert.deepEqual(rules.Rules.map((r: { Name: string; State: string }) => [r.Name, r.State]), [['image-actions', 'ENABLED']]);

    const image = memImage([{ 'hello.txt': 'events' }]);
    await pushMemImage(b, 'watched/app', 'v1', image);
    await pushMemImage(b, 'ignored/app', 'v1', memImage([{ 'other.txt': 'not watched' }]));
    await waitFor('the push event', () => received.length >= 1);
    const pushEvent = received[0]!;
    assert.equal(pushEvent.event['detail-type'], 'ECR Image Action');
    assert.equal(pushEvent.event.source, 'aws.ecr');
    assert.deepEqual(pushEvent.event.detail, {
      result: 'SUCCESS', 'repository-name': 'watched/app', 'image-digest': image.digest, 'action-type': 'PUSH', 'image-tag': 'v1',
    });
    assert.equal(pushEvent.headers[API_KEY], API_SECRET);
    const timestamp = String(pushEvent.headers['x-berth-timestamp']);
    const expected = createHmac('sha256', API_SECRET).update(`${timestamp}.${pushEvent.body}`).digest('hex');
    assert.equal(pushEvent.headers['x-berth-signature'], `sha256=${expected}`);

    // The endpoint goes down; a delete happens; the endpoint comes back and gets it, once.
    up = false;
    const deleted = await deleteManifest(b, 'watched/app', image.digest);
    assert.equal(deleted.status, 202, deleted.describe());
    await waitFor('a refused delivery', () => refused >= 1);
    up = true;
    await waitFor('the delete event after the endpoint came back', () => received.some((r) => r.event.detail['action-type'] === 'DELETE'));
    await new Promise((r) => setTimeout(r, 2000));
    const ids = received.map((r) => r.event.id);
    assert.equal(new Set(ids).size, ids.length, 'each event delivered once');
    assert.ok(received.every((r) => String(r.event.detail['repository-name']).startsWith('watched/')), 'only events the pattern matches');

    assert.equal(await awsError(['delete-rule', '--name', 'image-actions']), 'ValidationException');
    await aws(['remove-targets', '--rule', 'image-actions', '--ids', 'hook']);
    await aws(['delete-rule', '--name', 'image-actions']);
    assert.equal(await awsError(['describe-rule', '--name', 'image-actions']), 'ResourceNotFoundException');
  });

  it('invokes an API destination only through a role that may: a target whose role may not gets nothing', { timeout: 180_000 }, async () => {
    const connection = await awsJson([
      'create-connection', '--name', 'role-hooks', '--authorization-type', 'API_KEY',
      '--auth-parameters', JSON.stringify({ ApiKeyAuthParameters: { ApiKeyName: API_KEY, ApiKeyValue: API_SECRET } }),
    ]);
    const destination = async (name: string) =>
      (await awsJson(['create-api-destination', '--name', name, '--connection-arn', connection.ConnectionArn, '--invocation-endpoint', `${endpointUrl}/${name}`, '--http-method', 'POST']))
        .ApiDestinationArn as string;
    const permittedArn = await destination('permitted');
    const refusedArn = await destination('refused');
    // One role may invoke the permitted destination only; another does not trust EventBridge at all.
    const narrowRole = await invokeRole('invoke-permitted-only', permittedArn);
    const trust = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'ecr.amazonaws.com' }, Action: 'sts:AssumeRole' }] };
    await iam(['create-role', '--role-name', 'not-for-events', '--assume-role-policy-document', JSON.stringify(trust)]);
    await iam(['put-role-policy', '--role-name', 'not-for-events', '--policy-name', 'invoke', '--policy-document', JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'events:*', Resource: '*' }] })]);
    const untrustedRole = narrowRole.replace(/invoke-permitted-only$/, 'not-for-events');

    await awsJson(['put-rule', '--name', 'role-checked', '--event-pattern', JSON.stringify({ source: ['aws.ecr'], detail: { 'repository-name': [{ prefix: 'roles/' }] } })]);
    const put = await awsJson(['put-targets', '--rule', 'role-checked', '--targets', JSON.stringify([
      { Id: 'permitted', Arn: permittedArn, RoleArn: narrowRole },
      { Id: 'wrong-destination', Arn: refusedArn, RoleArn: narrowRole, RetryPolicy: { MaximumRetryAttempts: 5 } },
      { Id: 'untrusted', Arn: refusedArn, RoleArn: untrustedRole, RetryPolicy: { MaximumRetryAttempts: 5 } },
    ])]);
    assert.equal(put.FailedEntryCount, 0);

    // Giving EventBridge a role takes iam:PassRole on it.
    await iam(['create-user', '--user-name', 'rule-editor']);
    await iam(['put-user-policy', '--user-name', 'rule-editor', '--policy-name', 'events', '--policy-document', JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'events:*', Resource: '*' }] })]);
    const key = JSON.parse((await run(AWS, ['--endpoint-url', b.url, '--output', 'json', 'iam', 'create-access-key', '--user-name', 'rule-editor'], { env })).stdout).AccessKey;
    const asEditor = await run(AWS, ['--endpoint-url', b.url, '--output', 'json', 'events', 'put-targets', '--rule', 'role-checked', '--targets', JSON.stringify([{ Id: 'passed', Arn: permittedArn, RoleArn: narrowRole }])], {
      env: { ...env, AWS_ACCESS_KEY_ID: key.AccessKeyId, AWS_SECRET_ACCESS_KEY: key.SecretAccessKey },
      check: false,
    });
    assert.match(asEditor.stderr, /AccessDeniedException.*iam:PassRole/);
    assert.deepEqual((await awsJson(['list-targets-by-rule', '--rule', 'role-checked'])).Targets.map((t: { Id: string }) => t.Id).sort(), ['permitted', 'untrusted', 'wrong-destination']);

    await pushMemImage(b, 'roles/app', 'v1', memImage([{ 'role.txt': 'checked' }]));
    await waitFor('the permitted delivery', () => received.some((r) => r.path.endsWith('/permitted')));
    const jobs = async () =>
      JSON.parse(
        (await run(process.execPath, [join(REPO_ROOT, 'bin', 'berth.js'), 'admin', 'jobs', 'list', '--kind', 'eventbridge.deliver', '--status', 'dead', '--json', '--data-dir', b.dataDir])).stdout,
      ) as Array<{ attempts: number; lastError: string }>;
    const deadline = Date.now() + 30_000;
    let dead = await jobs();
    while (dead.length < 2 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      dead = await jobs();
    }
    assert.equal(dead.length, 2, 'both refused deliveries failed for good');
    assert.ok(dead.every((j) => j.attempts === 1), `not retried: ${JSON.stringify(dead)}`);
    assert.ok(dead.some((j) => /invoke-permitted-only may not perform events:InvokeApiDestination/.test(j.lastError)), JSON.stringify(dead));
    assert.ok(dead.some((j) => /trust policy of the role .*not-for-events/.test(j.lastError)), JSON.stringify(dead));
    assert.equal(received.filter((r) => r.path.endsWith('/refused')).length, 0, 'nothing was sent to the refused destination');
    assert.equal(received.filter((r) => r.path.endsWith('/permitted')).length, 1);
  });

  it('put-events: an application\'s own events reach the rules that match them; aws.* sources and malformed details are refused per entry', { timeout: 180_000 }, async () => {
    const bus = await awsJson(['describe-event-bus']);
    assert.equal(bus.Name, 'default');
    assert.match(bus.Arn, /^arn:aws:events:[a-z0-9-]+:\d{12}:event-bus\/default$/);
    assert.deepEqual((await awsJson(['list-event-buses'])).EventBuses, [{ Name: 'default', Arn: bus.Arn }]);
    assert.equal(await awsError(['describe-event-bus', '--name', 'other']), 'ResourceNotFoundException');

    const connection = await awsJson(['create-connection', '--name', 'app-hooks', '--authorization-type', 'API_KEY',
      '--auth-parameters', JSON.stringify({ ApiKeyAuthParameters: { ApiKeyName: API_KEY, ApiKeyValue: API_SECRET } })]);
    const destination = await awsJson(['create-api-destination', '--name', 'app-hook', '--connection-arn', connection.ConnectionArn,
      '--invocation-endpoint', endpointUrl, '--http-method', 'POST']);
    await awsJson(['put-rule', '--name', 'app-events', '--event-pattern', JSON.stringify({ source: ['my.app'], detail: { level: ['high'] } })]);
    const roleArn = await invokeRole('invoke-app-hooks', destination.ApiDestinationArn);
    await awsJson(['put-targets', '--rule', 'app-events', '--targets', JSON.stringify([{ Id: 'hook', Arn: destination.ApiDestinationArn, RoleArn: roleArn }])]);

    const put = await awsJson(['put-events', '--entries', JSON.stringify([
      { Source: 'my.app', DetailType: 'Order Placed', Detail: JSON.stringify({ level: 'high', n: 1 }), Resources: ['arn:aws:ecr:us-east-1:123456789012:repository/x'] },
      { Source: 'my.app', DetailType: 'Order Placed', Detail: JSON.stringify({ level: 'low', n: 2 }) },
      { Source: 'aws.ecr', DetailType: 'ECR Image Action', Detail: '{}' },
      { Source: 'my.app', DetailType: 'Order Placed', Detail: 'not json' },
    ])]);
    assert.equal(put.FailedEntryCount, 2);
    assert.match(put.Entries[0].EventId, /^[0-9a-f-]{36}$/);
    assert.match(put.Entries[1].EventId, /^[0-9a-f-]{36}$/);
    assert.equal(put.Entries[2].ErrorCode, 'NotAuthorizedForSourceException');
    assert.equal(put.Entries[3].ErrorCode, 'MalformedDetail');
    assert.equal(await awsError(['put-events', '--entries', JSON.stringify(Array.from({ length: 11 }, () => ({ Source: 'my.app', DetailType: 'x', Detail: '{}' })))]), 'ValidationException');

    const mine = () => received.filter((r) => r.event.source === 'my.app');
    await waitFor('the matching event', () => mine().length >= 1);
    await new Promise((r) => setTimeout(r, 2000));
    assert.equal(mine().length, 1, 'only the event the pattern matches, once');
    const got = mine()[0]!.event as Record<string, any>;
    assert.equal(got.id, put.Entries[0].EventId);
    assert.equal(got['detail-type'], 'Order Placed');
    assert.deepEqual(got.detail, { level: 'high', n: 1 });
    assert.deepEqual(got.resources, ['arn:aws:ecr:us-east-1:123456789012:repository/x']);
    assert.equal(got.account, bus.Arn.split(':')[4]);

    // The key is rotated and the endpoint moved: the next delivery uses both.
    const rotatedSecret = 'rotated-secret-value';
    await awsJson(['update-connection', '--name', 'app-hooks', '--auth-parameters', JSON.stringify({ ApiKeyAuthParameters: { ApiKeyValue: rotatedSecret } })]);
    assert.equal((await awsJson(['describe-connection', '--name', 'app-hooks'])).AuthParameters.ApiKeyAuthParameters.ApiKeyName, API_KEY);
    const moved = await awsJson(['update-api-destination', '--name', 'app-hook', '--invocation-endpoint', endpointUrl.replace('/hooks/ecr', '/hooks/app')]);
    assert.equal(moved.ApiDestinationArn, destination.ApiDestinationArn);
    assert.equal(await awsError(['update-connection', '--name', 'app-hooks', '--authorization-type', 'BASIC']), 'ValidationException');
    const again = await awsJson(['put-events', '--entries', JSON.stringify([{ Source: 'my.app', DetailType: 'Order Placed', Detail: JSON.stringify({ level: 'high', n: 3 }) }])]);
    await waitFor('the event after the rotation', () => mine().length >= 2);
    const rotated = mine()[1]!;
    assert.equal(rotated.event.id, again.Entries[0].EventId);
    assert.equal(rotated.path, '/hooks/app');
    assert.equal(rotated.headers[API_KEY], rotatedSecret);
    const stamp = String(rotated.headers['x-berth-timestamp']);
    assert.equal(rotated.headers['x-berth-signature'], `sha256=${createHmac('sha256', rotatedSecret).update(`${stamp}.${rotated.body}`).digest('hex')}`);
  });

  it('tests event patterns as EventBridge does: exact, prefix, anything-but, numeric, exists', async () => {
    const event = JSON.stringify({
      id: '1', account: '123456789012', source: 'aws.ecr', time: '2026-01-01T00:00:00Z', region: 'us-east-1', 'detail-type': 'ECR Image Action', resources: [],
      detail: { 'action-type': 'PUSH', 'repository-name': 'team/app', size: 42, 'image-tag': 'v1' },
    });
    const test = async (pattern: unknown) => (await awsJson(['test-event-pattern', '--event-pattern', JSON.stringify(pattern), '--event', event])).Result as boolean;
    assert.equal(await test({ source: ['aws.ecr'] }), true);
    assert.equal(await test({ source: ['aws.s3'] }), false);
    assert.equal(await test({ detail: { 'repository-name': [{ prefix: 'team/' }] } }), true);
    assert.equal(await test({ detail: { 'action-type': [{ 'anything-but': ['DELETE'] }] } }), true);
    assert.equal(await test({ detail: { 'action-type': [{ 'anything-but': 'PUSH' }] } }), false);
    assert.equal(await test({ detail: { size: [{ numeric: ['>', 10, '<=', 42] }] } }), true);
    assert.equal(await test({ detail: { size: [{ numeric: ['<', 10] }] } }), false);
    assert.equal(await test({ detail: { 'image-tag': [{ exists: true }] } }), true);
    assert.equal(await test({ detail: { 'scan-status': [{ exists: true }] } }), false);
    assert.equal(await awsError(['test-event-pattern', '--event-pattern', '{"detail":{"size":[{"numeric":[">"]}]}}', '--event', event]), 'InvalidEventPatternException');
    assert.equal(await awsError(['put-rule', '--name', 'on-schedule', '--schedule-expression', 'rate(5 minutes)']), 'ValidationException');
    assert.equal(await awsError(['list-rules', '--event-bus-name', 'other-bus']), 'ResourceNotFoundException');
  });

  it('tags rules and the bus: given at creation, changed with tag-resource, gone with the rule, and read by policy conditions', { timeout: 120_000 }, async () => {
    const pattern = JSON.stringify({ source: ['aws.ecr'] });
    const created = await awsJson(['put-rule', '--name', 'tagged', '--event-pattern', pattern, '--tags', 'Key=team,Value=infra', 'Key=protected,Value=true']);
    const tagsOf = async (arn: string) => (await awsJson(['list-tags-for-resource', '--resource-arn', arn])).Tags as Array<{ Key: string; Value: string }>;
    assert.deepEqual(await tagsOf(created.RuleArn), [{ Key: 'protected', Value: 'true' }, { Key: 'team', Value: 'infra' }]);
    // Replacing a rule with PutRule leaves its tags alone, as EventBridge documents.
    await aws(['put-rule', '--name', 'tagged', '--event-pattern', pattern, '--tags', 'Key=team,Value=other']);
    assert.deepEqual(await tagsOf(created.RuleArn), [{ Key: 'protected', Value: 'true' }, { Key: 'team', Value: 'infra' }]);
    await aws(['tag-resource', '--resource-arn', created.RuleArn, '--tags', 'Key=team,Value=platform', 'Key=cost,Value=42']);
    await aws(['untag-resource', '--resource-arn', created.RuleArn, '--tag-keys', 'cost']);
    assert.deepEqual(await tagsOf(created.RuleArn), [{ Key: 'protected', Value: 'true' }, { Key: 'team', Value: 'platform' }]);
    assert.equal(await awsError(['tag-resource', '--resource-arn', created.RuleArn, '--tags', 'Key=aws:owner,Value=x']), 'ValidationException');
    const many = Array.from({ length: 49 }, (_, i) => `Key=k${i},Value=v`);
    assert.equal(await awsError(['tag-resource', '--resource-arn', created.RuleArn, '--tags', ...many]), 'LimitExceededException', '2 + 49 tags are over the 50 a resource may have');
    assert.equal((await tagsOf(created.RuleArn)).length, 2, 'a refused request adds none of its tags');
    const bus = await awsJson(['describe-event-bus']);
    await aws(['tag-resource', '--resource-arn', bus.Arn, '--tags', 'Key=env,Value=lab']);
    assert.deepEqual(await tagsOf(bus.Arn), [{ Key: 'env', Value: 'lab' }]);
    const missing = created.RuleArn.replace(/tagged$/, 'no-such-rule');
    assert.equal(await awsError(['list-tags-for-resource', '--resource-arn', missing]), 'ResourceNotFoundException');
    assert.equal(await awsError(['tag-resource', '--resource-arn', missing, '--tags', 'Key=a,Value=b']), 'ResourceNotFoundException');

    // A policy may deny by a rule's tags: protected rules cannot be deleted by this user, others can.
    await iam(['create-user', '--user-name', 'rule-janitor']);
    await iam(['put-user-policy', '--user-name', 'rule-janitor', '--policy-name', 'events', '--policy-document', JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Action: 'events:*', Resource: '*' },
        { Effect: 'Deny', Action: 'events:DeleteRule', Resource: '*', Condition: { StringEquals: { 'aws:ResourceTag/protected': 'true' } } },
      ],
    })]);
    const key = JSON.parse((await run(AWS, ['--endpoint-url', b.url, '--output', 'json', 'iam', 'create-access-key', '--user-name', 'rule-janitor'], { env })).stdout).AccessKey;
    const asJanitor = (args: string[]) => run(AWS, ['--endpoint-url', b.url, '--output', 'json', 'events', ...args], {
      env: { ...env, AWS_ACCESS_KEY_ID: key.AccessKeyId, AWS_SECRET_ACCESS_KEY: key.SecretAccessKey },
      check: false,
    });
    await aws(['put-rule', '--name', 'scratch', '--event-pattern', pattern]);
    assert.match((await asJanitor(['delete-rule', '--name', 'tagged'])).stderr, /AccessDeniedException/);
    assert.equal((await asJanitor(['delete-rule', '--name', 'scratch'])).code, 0);
    await aws(['untag-resource', '--resource-arn', created.RuleArn, '--tag-keys', 'protected']);
    assert.equal((await asJanitor(['delete-rule', '--name', 'tagged'])).code, 0, 'untagged, the rule may be deleted at once');
    assert.equal(await awsError(['list-tags-for-resource', '--resource-arn', created.RuleArn]), 'ResourceNotFoundException');
    await aws(['put-rule', '--name', 'tagged', '--event-pattern', pattern]);
    assert.deepEqual(await tagsOf(created.RuleArn), [], 'a rule made again under the same name starts without the old tags');
  });

  it('lists rules by target; archives, replays, endpoints, other buses and partner sources answer that they are not available', { timeout: 120_000 }, async () => {
    const connection = await awsJson([
      'create-connection', '--name', 'by-target', '--authorization-type', 'BASIC',
      '--auth-parameters', JSON.stringify({ BasicAuthParameters: { Username: 'u', Password: 'p' } }),
    ]);
    const destination = await awsJson(['create-api-destination', '--name', 'by-target', '--connection-arn', connection.ConnectionArn, '--invocation-endpoint', endpointUrl, '--http-method', 'POST']);
    const roleArn = await invokeRole('invoke-by-target', destination.ApiDestinationArn);
    for (const rule of ['b-second', 'a-first', 'c-none']) await aws(['put-rule', '--name', rule, '--event-pattern', JSON.stringify({ source: ['aws.ecr'] })]);
    for (const rule of ['b-second', 'a-first']) await aws(['put-targets', '--rule', rule, '--targets', JSON.stringify([{ Id: 't', Arn: destination.ApiDestinationArn, RoleArn: roleArn }])]);
    const names = await awsJson(['list-rule-names-by-target', '--target-arn', destination.ApiDestinationArn]);
    assert.deepEqual(names.RuleNames, ['a-first', 'b-second']);
    const firstPage = await awsJson(['list-rule-names-by-target', '--target-arn', destination.ApiDestinationArn, '--limit', '1', '--no-paginate']);
    assert.deepEqual(firstPage.RuleNames, ['a-first']);
    assert.ok(firstPage.NextToken);
    assert.deepEqual((await awsJson(['list-rule-names-by-target', '--target-arn', 'arn:aws:lambda:us-east-1:123456789012:function:none'])).RuleNames, []);

    assert.deepEqual((await awsJson(['list-archives'])).Archives, []);
    assert.deepEqual((await awsJson(['list-replays'])).Replays, []);
    assert.deepEqual((await awsJson(['list-endpoints'])).Endpoints, []);
    assert.equal(await awsError(['describe-archive', '--archive-name', 'none']), 'ResourceNotFoundException');
    for (const args of [
      ['create-archive', '--archive-name', 'all', '--event-source-arn', (await awsJson(['describe-event-bus'])).Arn],
      ['start-replay', '--replay-name', 'r', '--event-source-arn', 'arn:aws:events:us-east-1:123456789012:archive/all', '--event-start-time', '2026-01-01', '--event-end-time', '2026-01-02', '--destination', 'Arn=arn:aws:events:us-east-1:123456789012:event-bus/default'],
      ['create-event-bus', '--name', 'apps'],
      ['delete-event-bus', '--name', 'apps'],
      ['put-permission', '--action', 'events:PutEvents', '--principal', '123456789012', '--statement-id', 's'],
      ['list-event-sources'],
      ['deauthorize-connection', '--name', 'by-target'],
    ]) {
      const res = await aws(args, false);
      assert.match(res.stderr, /OperationDisabledException.*not available on this endpoint/, `${args[0]}: ${res.stderr}`);
    }
  });
});
