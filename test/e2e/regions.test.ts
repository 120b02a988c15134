// Regions: one deployment serving us-east-1 and eu-west-1, each its own registry. The same
// repository name in both regions, told apart by the aws CLI (ARNs, URIs, images, policies, KMS
// keys) and by skopeo at each region's registry address; tokens of one region refused by the other.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort, REPO_ROOT, startBerth, type Berth } from '../helpers/berth.js';
import { AWS, awsCliEnv } from '../helpers/aws-cli.js';
import { buildImage, type LayoutImage } from '../helpers/images.js';
import Database from 'better-sqlite3';
import { ECRClient, GetAccountSettingCommand, PutAccountSettingCommand } from '@aws-sdk/client-ecr';
import { run, skopeo, skopeoCreds, tempDir } from '../helpers/tools.js';

const HOME = 'us-east-1';
const OTHER = 'eu-west-1';

describe('regions', () => {
  let b: Berth;
  let otherHost: string;
  let regionEnv: Record<string, string>;
  let work: { path: string; remove: () => Promise<void> };
  let env: Record<string, string>;
  let images: Record<string, LayoutImage>;

  const aws = (region: string, args: string[]) => run(AWS, ['--endpoint-url', b.url, '--output', 'json', '--region', region, ...args], { env, check: false, timeoutMs: 60_000 });
  const awsJson = async <T = Record<string, any>>(region: string, args: string[]): Promise<T> => {
    const res = await aws(region, args);
    assert.equal(res.code, 0, `aws ${args.join(' ')} --region ${region}: ${res.stderr}\n${b.output().slice(-2000)}`);
    return JSON.parse(res.stdout || '{}') as T;
  };
  const awsError = async (region: string, args: string[]): Promise<string> => {
    const res = await aws(region, args);
    assert.notEqual(res.code, 0, `aws ${args.join(' ')} --region ${region} should have failed: ${res.stdout}`);
    return /An error occurred \((\w+)\)/.exec(res.stderr)?.[1] ?? res.stderr;
  };
  const password = async (region: string) => (await aws(region, ['ecr', 'get-login-password'])).stdout.trim();
  const hostOf = (region: string) => (region === HOME ? b.host : otherHost);

  before(async () => {
    const port = await freePort();
    otherHost = `127.0.0.1:${port}`;
    regionEnv = { BERTH_REGIONS: `${HOME},${OTHER}`, BERTH_REGION_LISTEN: `${OTHER}=${otherHost}` };
    b = await startBerth({ env: regionEnv });
    work = await tempDir('regions');
    env = await awsCliEnv(b);
    images = {};
    for (const region of [HOME, OTHER]) {
      images[region] = await buildImage({ layout: join(work.path, region), tag: 'v1', files: [{ path: '/etc/region', content: `built for ${region}\n` }] });
    }
  });

  after(async () => {
    await b?.destroy();
    await work?.remove();
  });

  test('the same repository name in two regions: its own ARN, URI, images and policy in each', async () => {
    const created: Record<string, any> = {};
    for (const region of [HOME, OTHER]) {
      created[region] = (await awsJson(region, ['ecr', 'create-repository', '--repository-name', 'team/app'])).repository;
    }
    const account = created[HOME].registryId;
    assert.equal(created[OTHER].registryId, account, 'one account in every region');
    assert.equal(created[HOME].repositoryArn, `arn:aws:ecr:${HOME}:${account}:repository/team/app`);
    assert.equal(created[OTHER].repositoryArn, `arn:aws:ecr:${OTHER}:${account}:repository/team/app`);
    assert.equal(created[HOME].repositoryUri, `${b.host}/team/app`);
    assert.equal(created[OTHER].repositoryUri, `${otherHost}/team/app`);
    // The URI is the same whichever listener the API call reached.
    const viaOther = await run(AWS, ['--endpoint-url', `http://${otherHost}`, '--output', 'json', '--region', OTHER, 'ecr', 'describe-repositories', '--repository-names', 'team/app'], { env });
    assert.equal(JSON.parse(viaOther.stdout).repositories[0].repositoryUri, `${otherHost}/team/app`);
    const viaHomeForOther = await awsJson(OTHER, ['ecr', 'describe-repositories', '--repository-names', 'team/app']);
    assert.equal(viaHomeForOther.repositories[0].repositoryUri, `${otherHost}/team/app`);

    // A repository created in one region only does not exist in the other.
    await awsJson(OTHER, ['ecr', 'create-repository', '--repository-name', 'only/eu']);
    assert.equal(await awsError(HOME, ['ecr', 'describe-repositories', '--repository-names', 'only/eu']), 'RepositoryNotFoundException');
    const names = async (region: string) => (await awsJson(region, ['ecr', 'describe-repositories'])).repositories.map((r: any) => r.repositoryName).sort();
    assert.deepEqual(await names(HOME), ['team/app']);
    assert.deepEqual(await names(OTHER), ['only/eu', 'team/app']);

    // Each region's registry holds the image pushed to it, at that region's URI.
    for (const region of [HOME, OTHER]) {
      await skopeo(['copy', '--preserve-digests', '--dest-tls-verify=false', ...skopeoCreds('--dest-creds', await password(region)), images[region]!.ref, `docker://${hostOf(region)}/team/app:v1`]);
    }
    for (const region of [HOME, OTHER]) {
      const described = await awsJson(region, ['ecr', 'describe-images', '--repository-name', 'team/app']);
      assert.deepEqual(described.imageDetails.map((d: any) => d.imageDigest), [images[region]!.digest], `${region} holds its own image`);
      const inspected = await skopeo(['inspect', '--raw', '--tls-verify=false', ...skopeoCreds('--creds', await password(region)), `docker://${hostOf(region)}/team/app:v1`]);
      assert.equal(JSON.stringify(JSON.parse(inspected.stdout)), JSON.stringify(JSON.parse(images[region]!.manifest.toString())));
    }

    // A repository policy set in one region is not the other's.
    const policy = JSON.stringify({ Version: '2012-10-17', Statement: [{ Sid: 'pull', Effect: 'Allow', Principal: '*', Action: ['ecr:BatchGetImage'] }] });
    await awsJson(OTHER, ['ecr', 'set-repository-policy', '--repository-name', 'team/app', '--policy-text', policy]);
    assert.equal(JSON.parse((await awsJson(OTHER, ['ecr', 'get-repository-policy', '--repository-name', 'team/app'])).policyText).Statement[0].Sid, 'pull');
    assert.equal(await awsError(HOME, ['ecr', 'get-repository-policy', '--repository-name', 'team/app']), 'RepositoryPolicyNotFoundException');
  });

  test('berth admin usage reports the repositories of every region', async () => {
    const res = await run(process.execPath, [join(REPO_ROOT, 'bin', 'berth.js'), 'admin', 'usage', '--json', '--data-dir', b.dataDir], { env: regionEnv, timeoutMs: 120_000 });
    const rows = (JSON.parse(res.stdout).repositories as any[]).filter((r) => r.repositoryName === 'team/app');
    assert.deepEqual(rows.map((r) => r.region).sort(), [OTHER, HOME].sort());
    for (const row of rows) assert.ok(row.storageBytes > 0, `${row.region} team/app stores bytes`);
  });

  test('berth admin gc and lifecycle run cover every region, or the one --region names; jobs list takes --region', async () => {
    const admin = (args: string[]) => run(process.execPath, [join(REPO_ROOT, 'bin', 'berth.js'), 'admin', ...args, '--data-dir', b.dataDir], { env: regionEnv, timeoutMs: 120_000, check: false });
    const gc = await admin(['gc', '--dry-run']);
    assert.equal(gc.code, 0, gc.stderr);
    assert.match(gc.stdout, new RegExp(`^gc \\(dry run\\) in ${HOME}: would remove`, 'm'));
    assert.match(gc.stdout, new RegExp(`^gc \\(dry run\\) in ${OTHER}: would remove`, 'm'));
    const one = await admin(['lifecycle', 'run', '--region', OTHER]);
    assert.equal(one.code, 0, one.stderr);
    assert.match(one.stdout, new RegExp(`^lifecycle in ${OTHER}: \\d+ repositories evaluated`, 'm'));
    assert.doesNotMatch(one.stdout, new RegExp(`in ${HOME}`));
    const unserved = await admin(['gc', '--dry-run', '--region', 'ap-south-1']);
    assert.notEqual(unserved.code, 0);
    assert.match(unserved.stderr, /does not serve region ap-south-1/);
    const jobs = await admin(['jobs', 'list', '--json', '--region', OTHER]);
    assert.equal(jobs.code, 0, jobs.stderr);
    assert.ok(Array.isArray(JSON.parse(jobs.stdout)));
    // Each region's trail holds the calls signed for it: the repository created in each region above.
    for (const region of [HOME, OTHER]) {
      const audit = await admin(['audit', '--event-name', 'CreateRepository', '--region', region]);
      assert.equal(audit.code, 0, audit.stderr);
      const records = audit.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
      assert.ok(records.length > 0, `CreateRepository is in ${region}'s trail`);
      for (const r of records) assert.equal(r.awsRegion, region);
    }
  });

  test('/metrics reports the storage of every region, each repository with its region', async () => {
    const token = (await readFile(join(b.dataDir, 'metrics-token'), 'utf8')).trim();
    const res = await fetch(`${b.url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, 200);
    const lines = (await res.text()).split('\n');
    const bytesOf = (region: string) => {
      const line = lines.find((l) => l.startsWith('berth_repository_storage_bytes{') && l.includes('repository="team/app"') && l.includes(`region="${region}"`));
      return line === undefined ? undefined : Number(line.split(' ').pop());
    };
    for (const region of [HOME, OTHER]) assert.ok((bytesOf(region) ?? 0) > 0, `team/app in ${region} is in /metrics`);
    const total = Number(lines.find((l) => l.startsWith('berth_storage_bytes '))!.split(' ').pop());
    assert.ok(total >= bytesOf(HOME)! + bytesOf(OTHER)!, `the total (${total}) counts both regions' blobs`);
  });

  test('berth admin vulndb import loads the records into every region, so each scans against them', async () => {
    const berth = (args: string[]) => run(process.execPath, [join(REPO_ROOT, 'bin', 'berth.js'), 'admin', 'vulndb', ...args, '--data-dir', b.dataDir], { env: regionEnv, timeoutMs: 120_000 });
    await berth(['import', join(REPO_ROOT, 'test', 'fixtures', 'scanning', 'osv')]);
    const records = (file: string) => {
      const db = new Database(file, { readonly: true });
      try {
        return (db.prepare('SELECT COUNT(*) AS n FROM vuln_records').get() as { n: number }).n;
      } finally {
        db.close();
      }
    };
    const home = records(join(b.dataDir, 'metadata.db'));
    assert.ok(home > 0);
    assert.equal(records(join(b.dataDir, 'regions', OTHER, 'metadata.db')), home);
  });

  test("a region's login token is accepted by its own registry only", async () => {
    const fromOther = await password(OTHER);
    const inspect = (host: string, token: string) => skopeo(['inspect', '--raw', '--tls-verify=false', ...skopeoCreds('--creds', token), `docker://${host}/team/app:v1`], { check: false });
    assert.equal((await inspect(otherHost, fromOther)).code, 0);
    const refused = await inspect(b.host, fromOther);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /unauthorized|authentication required|401/i);
    assert.notEqual((await inspect(otherHost, await password(HOME))).code, 0);
  });

  test('KMS keys and account settings are regional; IAM is global', async () => {
    const key = (await awsJson(OTHER, ['kms', 'create-key', '--description', 'eu key'])).KeyMetadata;
    assert.match(key.Arn, new RegExp(`^arn:aws:kms:${OTHER}:`));
    const homeKeys = (await awsJson(HOME, ['kms', 'list-keys'])).Keys.map((k: any) => k.KeyId);
    assert.ok(!homeKeys.includes(key.KeyId), 'the key is not in the home region');
    assert.equal(await awsError(HOME, ['kms', 'describe-key', '--key-id', key.KeyId]), 'NotFoundException');

    // The Debian aws CLI predates the account-setting commands: the SDK sends them.
    const ecr = (region: string) => new ECRClient({ region, endpoint: b.url, credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID!, secretAccessKey: env.AWS_SECRET_ACCESS_KEY! } });
    await ecr(OTHER).send(new PutAccountSettingCommand({ name: 'BLOB_MOUNTING', value: 'DISABLED' }));
    assert.equal((await ecr(OTHER).send(new GetAccountSettingCommand({ name: 'BLOB_MOUNTING' }))).value, 'DISABLED');
    assert.equal((await ecr(HOME).send(new GetAccountSettingCommand({ name: 'BLOB_MOUNTING' }))).value, 'ENABLED');

    // A user created once (IAM is global) signs requests to every region.
    await awsJson(HOME, ['iam', 'create-user', '--user-name', 'roamer']);
    const created = (await awsJson(OTHER, ['iam', 'create-access-key', '--user-name', 'roamer'])).AccessKey;
    await awsJson(HOME, ['iam', 'attach-user-policy', '--user-name', 'roamer', '--policy-arn', 'arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly']);
    const asRoamer = { ...env, AWS_ACCESS_KEY_ID: created.AccessKeyId, AWS_SECRET_ACCESS_KEY: created.SecretAccessKey };
    for (const region of [HOME, OTHER]) {
      const res = await run(AWS, ['--endpoint-url', b.url, '--output', 'json', '--region', region, 'ecr', 'describe-repositories'], { env: asRoamer, check: false });
      assert.equal(res.code, 0, `${region}: ${res.stderr}`);
    }
  });

  test('a request signed for a region the deployment does not serve is refused', async () => {
    const res = await aws('ap-south-1', ['ecr', 'describe-repositories']);
    assert.notEqual(res.code, 0);
    assert.match(res.stderr, /InvalidSignatureException.*Credential should be scoped to a valid region, not 'ap-south-1'/);
  });

  test('both regions keep their registries across a restart', async () => {
    await b.restart();
    const described = await awsJson(OTHER, ['ecr', 'describe-images', '--repository-name', 'team/app']);
    assert.deepEqual(described.imageDetails.map((d: any) => d.imageDigest), [images[OTHER]!.digest]);
    const inspected = await skopeo(['inspect', '--raw', '--tls-verify=false', ...skopeoCreds('--creds', await password(OTHER)), `docker://${otherHost}/team/app:v1`], { check: false });
    assert.equal(inspected.code, 0, inspected.stderr);
  });
});
